"""Acknowledging from the page (the writes; what the link's page and the SMS webhook read is in
oncall/selectors.py): the signed link, Slack's buttons and SMS replies each end in the
one write path (incidents.services.lifecycle), with the interface they came through as the actor's
source. Here the outside identities are mapped to Mitigate users: a link's claim, a Slack user (by
the email Slack's users.info gives), a phone number (an enabled SMS contact method)."""

import logging
import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q
from slack_sdk.errors import SlackApiError

from common.actor import Actor, Source
from common.exceptions import ApplicationError, TransitionNotAllowedError
from incidents.models import Incident
from incidents.services.lifecycle import incident_acknowledge, incident_resolve
from notifications.choices import ChannelKind, ContactKind
from notifications.integrations.slack import web_client
from notifications.models import Channel, ContactMethod
from oncall.choices import PageStatus
from oncall.models import Page
from oncall.selectors import ack_link_open, incident_acknowledged_by
from oncall.services.paging import page_acknowledge

logger = logging.getLogger(__name__)

User = get_user_model()

SLACK_ACK, SLACK_RESOLVE = "incident_ack", "incident_resolve"
# "ACK 4821", "ack4821", " 4821 ", "Ack: 4821": the reply code alone or after ACK.
REPLY = re.compile(r"^\s*(?:ACK\b[\s:.,#-]*|ACK(?=\d))?([A-Z0-9]{3,8})\s*[.!]?\s*$", re.IGNORECASE)


class AckRefusedError(ApplicationError):
    """Nobody to act as: a link that needs a login (code login_required), or a one-click link whose
    person is no longer active."""

    code = "not_linked"
    http_status = 403


def ack_link_acknowledge(*, token: str, user: AbstractBaseUser | None) -> Incident:
    """A POST to the link. A signed-in `user` acknowledges as themselves; without one, only a
    one-click claim (SMS, with ONCALL_SMS_ONE_CLICK_ACK on now, not only when it was sent) acts as
    the person it was sent to, who must still be active."""
    link = ack_link_open(token=token)
    if user is None or not user.is_authenticated:
        if not (link.claim.one_click and settings.ONCALL_SMS_ONE_CLICK_ACK):
            raise AckRefusedError("Sign in to acknowledge.", code="login_required")
        user = User.objects.filter(pk=link.claim.user_id, is_active=True).first()
        if user is None:
            raise AckRefusedError("The person this link was sent to can no longer sign in.")
    return page_acknowledge(page=link.page, by=Actor(user=user, source=Source.PAGE_LINK))


# --- Slack -------------------------------------------------------------------------------------------


def _user_by_email(email: str) -> AbstractBaseUser | None:
    """The one active user with this email (their account's, or an email contact method's)."""
    email = email.strip()
    if not email:
        return None
    users = list(User.objects.filter(is_active=True, email__iexact=email)[:2])
    if len(users) == 1:
        return users[0]
    if users:
        return None  # two accounts share it: acting as either would be a guess
    ids = set(
        ContactMethod.objects.filter(
            kind=ContactKind.EMAIL, address__iexact=email, user__is_active=True
        ).values_list("user_id", flat=True)[:2]
    )
    return User.objects.get(pk=ids.pop()) if len(ids) == 1 else None


def slack_bot_channels(*, slack_channel_id: str = "") -> list[Channel]:
    """Enabled Slack bot channels, the one posting to `slack_channel_id` (or owning the incident
    channel with that id) first: its token belongs to the workspace the click came from."""
    # The secret is encrypted in the database: an empty one is only seen once decrypted.
    channels = [c for c in Channel.objects.filter(kind=ChannelKind.SLACK_BOT, enabled=True) if c.secret]
    if slack_channel_id:
        owning = set(
            Channel.objects.filter(
                Q(threads__incident_channel_id=slack_channel_id), kind=ChannelKind.SLACK_BOT
            ).values_list("pk", flat=True)
        )
        channels.sort(
            key=lambda c: not (c.pk in owning or str(c.config.get("channel", "")).strip() == slack_channel_id)
        )
    return channels


def slack_user_match(*, slack_user_id: str, slack_channel_id: str = "") -> AbstractBaseUser | None:
    """The Mitigate user behind a Slack user: users.info (with a bot channel's token) gives the
    profile's email, matched to an active user. None when no bot can see the user or no user
    matches; ApplicationError when Slack could not be reached at all (worth pressing again)."""
    if not slack_user_id:
        return None
    channels = slack_bot_channels(slack_channel_id=slack_channel_id)
    answered = False
    for channel in channels:
        try:
            response = web_client(channel.secret).users_info(user=slack_user_id)
        except SlackApiError:  # user_not_found, invalid_auth: perhaps another workspace's bot
            answered = True
            continue
        except Exception as exc:  # network, a body that is not JSON: try the next bot
            logger.info("Slack users.info through channel %s failed: %s", channel.pk, type(exc).__name__)
            continue
        profile = (response.get("user") or {}).get("profile") or {}
        email = profile.get("email")
        if isinstance(email, str):
            return _user_by_email(email)
        answered = True
    if channels and not answered:
        raise ApplicationError("Mitigate could not reach Slack to look up your account. Press again.")
    return None


def slack_action_apply(*, action_id: str, incident_id: str, user: AbstractBaseUser) -> str:
    """A button press by a matched user: acknowledge or resolve. Returns what to tell them; a
    refusal (already acknowledged, no permission, not found) raises ApplicationError."""
    # ASCII digits within a bigint: "²" is a digit to str.isdigit, and 10**30 overflows the column.
    valid = re.fullmatch(r"[0-9]{1,18}", incident_id) is not None
    incident = Incident.objects.filter(pk=int(incident_id)).first() if valid else None
    if incident is None:
        raise ApplicationError("That incident no longer exists.", code="not_found")
    by = Actor(user=user, source=Source.SLACK)
    if action_id == SLACK_ACK:
        incident = incident_acknowledge(incident=incident, by=by)
        return f"You acknowledged {incident.reference}: {incident.title}"
    if action_id == SLACK_RESOLVE:
        incident = incident_resolve(incident=incident, by=by, summary=f"Resolved from Slack by {user}")
        return f"You resolved {incident.reference}: {incident.title}"
    raise ApplicationError("Mitigate does not know that button.", code="unknown_action")


# --- SMS ---------------------------------------------------------------------------------------------


def sms_reply_code(body: str) -> str:
    """The reply code in an SMS body, uppercased, or "" when the body is not a reply."""
    match = REPLY.match(body or "")
    # Codes have a digit: "ACK" or "hello" alone is not a code.
    return match.group(1).upper() if match and any(c.isdigit() for c in match.group(1)) else ""


def sms_reply_handle(*, from_number: str, body: str) -> str:
    """An inbound SMS: acknowledge the escalating page its code names, as the user whose enabled
    SMS contact method sent it. Returns the reply to send back; nothing changes unless it says so."""
    code = sms_reply_code(body)
    if not code:
        return 'Mitigate did not understand that. Reply "ACK <code>" with the code from the page.'
    users = (
        list(
            User.objects.filter(
                is_active=True,
                contact_methods__kind=ContactKind.SMS,
                contact_methods__enabled=True,
                contact_methods__address=from_number.strip(),
            ).distinct()[:2]
        )
        if from_number.strip()
        else []
    )
    if len(users) > 1:  # a shared phone: acting as either would be a guess
        return "This phone number belongs to more than one Mitigate user: acknowledge from the link instead."
    user = users[0] if users else None
    if user is None:
        return "This phone number is not linked to a Mitigate user: add it as an SMS contact method."
    page = (
        Page.objects.select_related("incident")
        .filter(status=PageStatus.ESCALATING, reply_code__iexact=code)
        .order_by("-created_at")
        .first()
    )
    if page is None:
        return f"No open page has the code {code}; it may have been acknowledged or ended already."
    incident = page.incident
    try:
        incident = page_acknowledge(page=page, by=Actor(user=user, source=Source.SMS))
    except TransitionNotAllowedError as error:
        already = incident_acknowledged_by(incident=incident)
        if already:
            return f"{incident.reference} was already acknowledged by {already}."
        return error.message
    except ApplicationError as error:
        return f"{incident.reference} was not acknowledged: {error.message}"
    return f"Acknowledged {incident.reference}: {incident.title}"
