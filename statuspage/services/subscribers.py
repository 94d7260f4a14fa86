"""Status page subscribers: subscribing (double opt-in for email), confirming, unsubscribing, webhook
subscribers added by an operator, and each update's fan-out into one ledger delivery per subscriber
who wants it. The ledger (notifications) sends; statuspage.messages builds what it sends."""

import secrets
import uuid
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from common.actor import Actor, Source
from common.exceptions import TransitionNotAllowedError
from notifications.choices import EventKind
from notifications.models import Delivery
from notifications.services.routing import delivery_enqueue
from statuspage.choices import SubscriberKind, SubscriberStatus
from statuspage.models import Component, PublicUpdate, Subscriber
from statuspage.subscriber_links import CONFIRM, UNSUBSCRIBE, LinkInvalidError, token_check, token_claim

EXTERNAL = "statuspage.subscriber"
ADD_PERMISSION = "statuspage.add_subscriber"
CHANGE_PERMISSION = "statuspage.change_subscriber"
MAX_URL = 2000
# Who acts when a reader follows a link from an email: nobody signed in, the token vouches.
LINK_ACTOR = Actor.system(source=Source.PAGE_LINK, label="subscriber link")


def _email_clean(email: str, errors: dict) -> str:
    email = (email or "").strip()
    try:
        if not email or len(email) > 254:
            raise ValidationError("Enter a valid email address.")
        validate_email(email)
    except ValidationError:
        errors["email"] = ["Enter a valid email address."]
        return ""
    # One subscription per address, whatever its case.
    return email.lower()


def _components_check(components: Iterable[Component], errors: dict) -> list[Component]:
    chosen = list(dict.fromkeys(components or []))
    if any(component.pk is None for component in chosen):
        errors["components"] = ["Choose saved components."]
    return chosen


def _send(subscriber: Subscriber, event: dict, *, kind: str = EventKind.STATUS_PAGE_CONFIRM) -> Delivery:
    """A delivery to this subscriber through the ledger, sent after commit."""
    delivery = Delivery.objects.create(
        # Each confirmation is its own message: a repeated request is a new email (rate-limited).
        event_key=f"statuspage-confirm:{uuid.uuid4().hex}",
        target_key=f"s:{subscriber.pk}",
        event_kind=kind,
        event={"subscriber": subscriber.pk, **event},
        external=EXTERNAL,
        contact_kind=subscriber.kind,
        address=subscriber.email[:254],
        audience="customer",
        next_attempt_at=timezone.now(),
        task_id=uuid.uuid4().hex,
    )
    delivery_enqueue(delivery)
    return delivery


def subscriber_subscribe(
    *, by: Actor, email: str, components: Iterable[Component] = (), confirmed: bool = False
) -> Subscriber:
    """Subscribe an email address. New: a pending subscriber and a confirmation email. Pending: the
    components as now chosen and the confirmation again. Already active: unchanged (a stranger must
    not change someone's choice) and an email saying so, with the unsubscribe link. The caller
    answers the same in every case, so nobody learns whether an address is subscribed.

    `confirmed` (an operator who has the address's consent) skips the opt-in."""
    if not by.is_system:
        by.require(ADD_PERMISSION, "add subscribers")
    if confirmed:
        by.require(CHANGE_PERMISSION, "add confirmed subscribers", people_only=True)
    errors: dict[str, list[str]] = {}
    email = _email_clean(email, errors)
    chosen = _components_check(components, errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        subscriber = (
            Subscriber.objects.select_for_update()
            .filter(kind=SubscriberKind.EMAIL, email=email)
            .exclude(status=SubscriberStatus.UNSUBSCRIBED)
            .first()
        )
        if subscriber is not None and subscriber.status == SubscriberStatus.ACTIVE:
            if not confirmed:
                _send(subscriber, {"already": True})
            return subscriber
        if subscriber is None:
            try:
                with transaction.atomic():
                    subscriber = Subscriber.objects.create(kind=SubscriberKind.EMAIL, email=email)
            except IntegrityError:
                # Another request for the same address won the race: answer as for a pending one.
                subscriber = Subscriber.objects.select_for_update().get(
                    kind=SubscriberKind.EMAIL, email=email, status=SubscriberStatus.PENDING
                )
        subscriber.components.set(chosen)
        if confirmed:
            _activate(subscriber)
        else:
            _send(subscriber, {"confirm": True})
    return subscriber


def _activate(subscriber: Subscriber) -> None:
    subscriber.confirm()
    subscriber.confirmed_at = timezone.now()
    subscriber.save(update_fields=["status", "confirmed_at", "updated_at"])


def subscriber_confirm(*, subscriber: Subscriber, by: Actor) -> Subscriber:
    """Pending -> active. Confirming again is no error (a second click); an unsubscribed one must
    subscribe again."""
    with transaction.atomic():
        locked = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if locked.status == SubscriberStatus.UNSUBSCRIBED:
            raise TransitionNotAllowedError("This subscription was cancelled: subscribe again.")
        if locked.status == SubscriberStatus.PENDING:
            if not by.is_system:
                by.require(CHANGE_PERMISSION, "confirm subscribers")
            _activate(locked)
    return locked


def subscriber_unsubscribe(*, subscriber: Subscriber, by: Actor) -> Subscriber:
    """Pending or active -> unsubscribed; again is no error (one-click unsubscribes repeat). What
    the ledger still holds for it is not sent (statuspage.messages refuses it)."""
    if not by.is_system:
        by.require(CHANGE_PERMISSION, "unsubscribe subscribers")
    with transaction.atomic():
        locked = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if locked.status != SubscriberStatus.UNSUBSCRIBED:
            locked.unsubscribe()
            locked.unsubscribed_at = timezone.now()
            locked.save(update_fields=["status", "unsubscribed_at", "updated_at"])
    return locked


def subscriber_from_link(*, token: str, purpose: str) -> Subscriber:
    """The subscriber a confirm or unsubscribe link names, or LinkInvalidError."""
    claim = token_claim(token=token, purpose=purpose)
    subscriber = Subscriber.objects.filter(pk=claim.subscriber_id).first()
    if subscriber is None:
        raise LinkInvalidError("This link is not valid.")
    token_check(claim, key=subscriber.key)
    return subscriber


def subscriber_confirm_link(*, token: str) -> Subscriber:
    return subscriber_confirm(subscriber=subscriber_from_link(token=token, purpose=CONFIRM), by=LINK_ACTOR)


def subscriber_unsubscribe_link(*, token: str) -> Subscriber:
    subscriber = subscriber_from_link(token=token, purpose=UNSUBSCRIBE)
    return subscriber_unsubscribe(subscriber=subscriber, by=LINK_ACTOR)


def _url_clean(url: str, errors: dict) -> str:
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        _ = parts.port  # a port that is not a number in range raises ValueError
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and len(url) <= MAX_URL
    except ValueError:
        valid = False
    if not valid or any(c.isspace() or ord(c) < 32 for c in url):
        errors["url"] = [f"Give an http:// or https:// address (at most {MAX_URL} characters)."]
        return ""
    return url


def subscriber_webhook_add(
    *, by: Actor, url: str, components: Iterable[Component] = ()
) -> tuple[Subscriber, str]:
    """An operator's webhook subscriber, active at once (there is nobody to confirm), and its signing
    secret, returned this once. Only the admin and the API call this: a public form would let anyone
    make the server POST to its internal addresses."""
    by.require(ADD_PERMISSION, "add webhook subscribers", people_only=True)
    errors: dict[str, list[str]] = {}
    url = _url_clean(url, errors)
    chosen = _components_check(components, errors)
    if errors:
        raise ValidationError(errors)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        subscriber = Subscriber.objects.create(
            kind=SubscriberKind.WEBHOOK,
            webhook_url=url,
            webhook_host=(urlsplit(url).hostname or "")[:255],
            webhook_secret=secret,
        )
        subscriber.components.set(chosen)
        _activate(subscriber)
    return subscriber, secret


def subscribers_for(update: PublicUpdate):
    """Active subscribers who chose no components (all of them) or one the incident names."""
    named = list(update.public_incident.affected.values_list("component_id", flat=True))
    return (
        Subscriber.objects.filter(status=SubscriberStatus.ACTIVE)
        .filter(Q(components__isnull=True) | Q(components__in=named))
        .distinct()
        .order_by("pk")
    )


def update_fan_out(*, update_id: int) -> int:
    """Idempotent: (update, subscriber) is the delivery's unique key, so a repeated task adds none."""
    update = PublicUpdate.objects.select_related("public_incident").filter(pk=update_id, notify=True).first()
    if update is None:
        return 0
    created = 0
    now = timezone.now()
    for subscriber in subscribers_for(update).iterator(chunk_size=500):
        address = subscriber.email if subscriber.kind == SubscriberKind.EMAIL else subscriber.webhook_host
        try:
            with transaction.atomic():
                delivery = Delivery.objects.create(
                    event_key=f"statuspage-update:{update.pk}",
                    target_key=f"s:{subscriber.pk}",
                    event_kind=EventKind.STATUS_PAGE,
                    event={"update": update.pk, "subscriber": subscriber.pk},
                    incident_id=update.public_incident.incident_id,
                    external=EXTERNAL,
                    contact_kind=subscriber.kind,
                    address=address[:254],
                    audience="customer",
                    next_attempt_at=now,
                    task_id=uuid.uuid4().hex,
                )
                delivery_enqueue(delivery)
        except IntegrityError:
            continue  # Already there (a repeated task).
        created += 1
    return created
