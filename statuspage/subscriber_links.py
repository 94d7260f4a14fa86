"""The links in subscriber emails: confirm (expiring, STATUSPAGE_CONFIRM_MAX_AGE_HOURS) and
unsubscribe (no expiry: an old email must still let its reader go).

A token is `<subscriber id, base 36>.[<issued, base 36>.]<signature>`. The signature (django.core.signing,
HMAC-SHA256 with SECRET_KEY) is salted with the purpose AND the subscriber's `key`, which the token
does not carry: a confirm token never unsubscribes (nor the other way round), and a new key voids
every link sent before. The token is the URL's path: config/logging.py cuts it out of request logs."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.http import base36_to_int, int_to_base36

CONFIRM = "confirm"
UNSUBSCRIBE = "unsubscribe"
SALT = "mitigate.statuspage.subscriber"
SEPARATOR = "."


class LinkInvalidError(Exception):
    """Forged, altered, of the other purpose, voided by a new key, or expired: the message says
    which plainly (without saying whether the address is subscribed)."""


def confirm_max_age() -> timedelta:
    return timedelta(hours=getattr(settings, "STATUSPAGE_CONFIRM_MAX_AGE_HOURS", 48))


def _signer(purpose: str, key: str) -> signing.Signer:
    salt = f"{SALT}:{purpose}:{key}"
    if purpose == CONFIRM:
        return signing.TimestampSigner(sep=SEPARATOR, salt=salt, algorithm="sha256")
    return signing.Signer(sep=SEPARATOR, salt=salt, algorithm="sha256")


def token_make(*, purpose: str, subscriber_id: int, key: str) -> str:
    return _signer(purpose, key).sign(int_to_base36(subscriber_id))


@dataclass(frozen=True)
class LinkClaim:
    """What a token names before it is checked: the subscriber to load (and check it against)."""

    token: str
    purpose: str
    subscriber_id: int


def token_claim(*, token: str, purpose: str) -> LinkClaim:
    """The subscriber id a token names; not yet verified (`token_check` does that with its key)."""
    head = token.split(SEPARATOR, 1)[0]
    try:
        if not head or len(head) > 13 or not head.isascii() or not head.isalnum():
            raise ValueError(head)
        subscriber_id = base36_to_int(head.lower())
    except ValueError:
        raise LinkInvalidError("This link is not valid.") from None
    return LinkClaim(token=token, purpose=purpose, subscriber_id=subscriber_id)


def token_check(claim: LinkClaim, *, key: str) -> None:
    """Raise LinkInvalidError unless the token was signed for this purpose with this key."""
    signer = _signer(claim.purpose, key)
    try:
        if isinstance(signer, signing.TimestampSigner):
            value = signer.unsign(claim.token, max_age=confirm_max_age())
        else:
            value = signer.unsign(claim.token)
    except signing.SignatureExpired:
        raise LinkInvalidError(
            "This confirmation link has expired. Subscribe again to get a new one."
        ) from None
    except signing.BadSignature:
        raise LinkInvalidError("This link is not valid.") from None
    if value != int_to_base36(claim.subscriber_id):
        raise LinkInvalidError("This link is not valid.")


def confirm_url(*, subscriber_id: int, key: str) -> str:
    token = token_make(purpose=CONFIRM, subscriber_id=subscriber_id, key=key)
    return settings.SITE_URL + reverse("statuspage:subscribe-confirm", args=[token])


def unsubscribe_url(*, subscriber_id: int, key: str) -> str:
    token = token_make(purpose=UNSUBSCRIBE, subscriber_id=subscriber_id, key=key)
    return settings.SITE_URL + reverse("statuspage:unsubscribe", args=[token])
