"""What the notifications ledger sends a status page subscriber, built at send time from the rows as
they are then (registered in apps.py with notifications.external): update emails with their one-click
unsubscribe, Statuspage-shaped webhook JSON, and the confirmation emails.

Only what the public page shows goes out: the public incident's title, its updates and components,
never the Mitigate incident behind it. A subscriber who left after the delivery was made gets
nothing: the builder raises PermanentSendError, and the ledger marks the delivery dead."""

import hashlib
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from notifications.choices import ChannelKind, EventKind
from notifications.models import Delivery
from notifications.transport import Message, PermanentSendError, Target
from statuspage.branding import Branding, branding
from statuspage.choices import ComponentStatus, Kind, PublicStatus, SubscriberKind, SubscriberStatus, worst
from statuspage.models import Component, PublicIncident, PublicUpdate, Subscriber
from statuspage.subscriber_links import confirm_max_age, confirm_url, unsubscribe_url

DOCUMENTATION = "https://support.atlassian.com/statuspage/docs/enable-webhook-notifications/"
PAGE_LABEL = "View the status page"
# Statuspage's page indicator and description for the worst component status.
INDICATORS = {
    ComponentStatus.OPERATIONAL: ("none", "All Systems Operational"),
    ComponentStatus.MAINTENANCE: ("maintenance", "Service Under Maintenance"),
    ComponentStatus.DEGRADED: ("minor", "Partially Degraded Service"),
    ComponentStatus.PARTIAL_OUTAGE: ("major", "Partial System Outage"),
    ComponentStatus.MAJOR_OUTAGE: ("critical", "Major System Outage"),
}


def page_id() -> str:
    """Statuspage gives every page an id; ours is stable per site."""
    return hashlib.sha256(settings.SITE_URL.encode()).hexdigest()[:12]


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
    return f"{settings.SITE_URL}{reverse('statuspage:index')}incidents/{public.pk}/"


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
    facts += [
        (change.get("name", ""), labels.get(change.get("new_status"), change.get("new_status", "")))
        for change in update.affected_components or []
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
        data=webhook_body(public, unsubscribe) if subscriber.kind == SubscriberKind.WEBHOOK else {},
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


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _component_json(component: Component, pid: str) -> dict:
    return {
        "id": str(component.pk),
        "name": component.name,
        "status": component.status,
        "created_at": _time(component.created_at),
        "updated_at": _time(component.updated_at),
        "position": component.order,
        "description": component.description or None,
        "showcase": True,
        "start_date": None,
        "group_id": str(component.group_id) if component.group_id else None,
        "page_id": pid,
        "group": False,
        "only_show_if_degraded": False,
    }


def incident_json(public: PublicIncident, pid: str) -> dict:
    """The incident as Statuspage's incidents.json gives it, with its updates (newest first)."""
    updates = list(public.updates.order_by("-created_at", "-id"))
    components = [row.component for row in public.affected.select_related("component")]
    monitoring = [u.created_at for u in updates if u.status == PublicStatus.MONITORING]
    body = {
        "id": str(public.pk),
        "name": public.title,
        "status": public.status,
        "impact": "maintenance" if public.kind == Kind.MAINTENANCE else public.impact,
        "created_at": _time(public.created_at),
        "updated_at": _time(updates[0].created_at if updates else public.updated_at),
        "started_at": _time(public.started_at),
        "monitoring_at": _time(min(monitoring) if monitoring else None),
        "resolved_at": _time(public.resolved_at),
        "shortlink": incident_url(public),
        "page_id": pid,
        "incident_updates": [
            {
                "id": str(update.pk),
                "status": update.status,
                "body": update.message,
                "incident_id": str(public.pk),
                "created_at": _time(update.created_at),
                "updated_at": _time(update.updated_at),
                "display_at": _time(update.created_at),
                "affected_components": update.affected_components or None,
                "deliver_notifications": update.notify,
                "custom_tweet": None,
                "tweet_id": None,
            }
            for update in updates
        ],
        "components": [_component_json(component, pid) for component in components],
    }
    if public.kind == Kind.MAINTENANCE:
        body["scheduled_for"] = _time(public.scheduled_for)
        body["scheduled_until"] = _time(public.scheduled_until)
    return body


def webhook_body(public: PublicIncident, unsubscribe: str) -> dict:
    """Statuspage's incident webhook: meta, page (with the page's overall status), incident."""
    pid = page_id()
    statuses = Component.objects.filter(shown=True).values_list("status", flat=True)
    indicator, description = INDICATORS[worst(statuses)]
    return {
        "meta": {"unsubscribe": unsubscribe, "documentation": DOCUMENTATION},
        "page": {"id": pid, "status_indicator": indicator, "status_description": description},
        "incident": incident_json(public, pid),
    }
