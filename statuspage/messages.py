"""What the notifications ledger sends a status page subscriber, built at send time from the rows as
they are then (registered in apps.py with notifications.external): update emails with their one-click
unsubscribe, Statuspage-shaped webhook JSON, and the confirmation emails.

Only what the public page shows goes out: the public incident's title, its updates and components,
never the Mitigate incident behind it. A subscriber who left after the delivery was made gets
nothing: the builder raises PermanentSendError, and the ledger marks the delivery dead."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from notifications.choices import ChannelKind, EventKind
from notifications.models import Delivery
from notifications.transport import Message, PermanentSendError, Target
from statuspage import public_json
from statuspage.branding import Branding, branding
from statuspage.choices import ComponentStatus, Kind, SubscriberKind, SubscriberStatus
from statuspage.models import Component, PublicIncident, PublicUpdate, Subscriber
from statuspage.selectors import page_indicator
from statuspage.subscriber_links import confirm_max_age, confirm_url, unsubscribe_url

DOCUMENTATION = "https://support.atlassian.com/statuspage/docs/enable-webhook-notifications/"
PAGE_LABEL = "View the status page"


def _subscriber(delivery: Delivery) -> Subscriber:
    subscriber = Subscriber.objects.filter(pk=delivery.event.get("subscriber")).first()
    if subscriber is None:
        raise PermanentSendError("The subscriber was deleted.")
    return subscriber


def target(delivery: Delivery) -> Target:
    subscriber = _subscriber(delivery)
    if subscriber.kind == SubscriberKind.WEBHOOK:
        return Target(
            kind=ChannelKind.WEBHOOK,
            config={"url": subscriber.webhook_url, "body": "data"},
            secret=subscriber.webhook_secret,
        )
    return Target(kind=ChannelKind.EMAIL, config={}, address=subscriber.email)


def message(delivery: Delivery) -> Message:
    subscriber = _subscriber(delivery)
    if delivery.event_kind == EventKind.STATUS_PAGE_CONFIRM:
        return _confirmation(subscriber, already=bool(delivery.event.get("already")))
    if subscriber.status != SubscriberStatus.ACTIVE:
        raise PermanentSendError("unsubscribed")
    updates = PublicUpdate.objects.select_related("public_incident")
    update = updates.filter(pk=delivery.event.get("update")).first()
    if update is None:
        raise PermanentSendError("The update was deleted.")
    return _update(update, subscriber, branding())


def incident_url(public: PublicIncident) -> str:
    return f"{settings.SITE_URL}{reverse('statuspage:incident', args=[public.pk])}"


def _unsubscribe_headers(url: str) -> tuple[tuple[str, str], ...]:
    # RFC 2369 and RFC 8058: mail clients offer "unsubscribe", and POST it without the reader.
    return (("List-Unsubscribe", f"<{url}>"), ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))


def _local(moment: datetime | None, page: Branding) -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(page.time_zone)).strftime("%Y-%m-%d %H:%M")


def _update(update: PublicUpdate, subscriber: Subscriber, page: Branding) -> Message:
    public = update.public_incident
    status = update.get_status_display()
    labels = dict(ComponentStatus.choices)
    facts = [("Status", status)]
    if public.kind == Kind.MAINTENANCE:
        start, end = _local(public.scheduled_for, page), _local(public.scheduled_until, page)
        facts.append(("Window", f"{start} to {end} {page.time_zone}"))
    # Hidden components are left off the page, and so out of the emails.
    hidden = {str(pk) for pk in Component.objects.filter(shown=False).values_list("pk", flat=True)}
    facts += [
        (change.get("name", ""), labels.get(change.get("new_status"), change.get("new_status", "")))
        for change in update.affected_components or []
        if str(change.get("code")) not in hidden
    ]
    unsubscribe = unsubscribe_url(subscriber_id=subscriber.pk, key=subscriber.key)
    text = render_to_string(
        "statuspage/email/update.txt",
        {"page": page, "update": update, "unsubscribe_url": unsubscribe},
    )
    return Message(
        event_kind=EventKind.STATUS_PAGE,
        event_label=f"{page.name}: {public.get_kind_display()}",
        subject=f"[{page.name}] {public.title}: {status}",
        text=text.strip(),
        url=incident_url(public),
        url_label=PAGE_LABEL,
        facts=tuple(facts),
        headers=_unsubscribe_headers(unsubscribe),
        data=webhook_body(public, unsubscribe, page) if subscriber.kind == SubscriberKind.WEBHOOK else {},
    )


def _confirmation(subscriber: Subscriber, *, already: bool) -> Message:
    page = branding()
    if subscriber.kind != SubscriberKind.EMAIL:
        raise PermanentSendError("Webhook subscribers are not sent confirmations.")
    wanted = SubscriberStatus.ACTIVE if already else SubscriberStatus.PENDING
    if subscriber.status != wanted:
        # Confirmed or unsubscribed meanwhile: this email would say something no longer true.
        raise PermanentSendError(f"The subscriber is {subscriber.get_status_display().lower()} now.")
    unsubscribe = unsubscribe_url(subscriber_id=subscriber.pk, key=subscriber.key)
    context = {
        "page": page,
        "unsubscribe_url": unsubscribe,
        "components": [component.name for component in subscriber.components.order_by("order", "name")],
    }
    if already:
        return Message(
            event_kind=EventKind.STATUS_PAGE_CONFIRM,
            event_label=page.name,
            subject=f"[{page.name}] You are already subscribed",
            text=render_to_string("statuspage/email/already.txt", context).strip(),
            url=settings.SITE_URL + reverse("statuspage:index"),
            url_label=PAGE_LABEL,
            headers=_unsubscribe_headers(unsubscribe),
        )
    hours = int(confirm_max_age().total_seconds() // 3600)
    return Message(
        event_kind=EventKind.STATUS_PAGE_CONFIRM,
        event_label=page.name,
        subject=f"[{page.name}] Confirm your subscription",
        text=render_to_string("statuspage/email/confirm.txt", {**context, "hours": hours}).strip(),
        url=confirm_url(subscriber_id=subscriber.pk, key=subscriber.key),
        url_label="Confirm your subscription",
    )


# --- Statuspage's webhook JSON ------------------------------------------------------------------


def webhook_body(public: PublicIncident, unsubscribe: str, page: Branding) -> dict:
    """Statuspage's incident webhook: meta, page (its overall status, by the page's one rule) and the
    incident exactly as incidents.json gives it (public_json: hidden components left out)."""
    status = page_indicator()
    return {
        "meta": {"unsubscribe": unsubscribe, "documentation": DOCUMENTATION},
        "page": {
            "id": public_json.PAGE_ID,
            "status_indicator": status.indicator,
            "status_description": status.description,
        },
        "incident": public_json.incident_document(public.pk, page),
    }
