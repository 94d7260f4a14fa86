"""The escalation engine: an incident's Page walks its policy's steps until someone acknowledges.

Every step is a row (PageStep, unique per page, pass and position) written by a thin task that
carries the page's stored task id; a task whose id no longer matches, or that comes early, does
nothing. Each person's contact methods are Delivery rows of the notifications ledger (retries,
sending, the admin's view of what was sent), delayed by the method's own page delay. The beat
sweeper sends again the message of a step that is overdue, so a lost message or a killed worker
delays a step but never loses it."""

import logging
import secrets
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import prefetch_related_objects
from django.urls import NoReverseMatch
from django.utils import timezone
from django_fsm import can_proceed

from common.actor import Actor, Source
from common.tasks import enqueue_on_commit
from incidents.choices import OPEN_STATUSES
from incidents.choices import EventKind as TimelineKind
from incidents.models import Incident
from incidents.services.lifecycle import incident_acknowledge
from incidents.services.timeline import timeline_event_record
from notifications.choices import ContactKind, DeliveryStatus
from notifications.choices import EventKind as MessageKind
from notifications.models import Delivery
from notifications.services.routing import Recipient, deliveries_create, person_recipients
from oncall.acklinks import ack_link_make
from oncall.choices import PageMode, PageStatus
from oncall.models import EscalationPolicy, EscalationStep, Page, PageStep, PolicyAlertRule, PolicyService
from oncall.selectors import oncall_at

logger = logging.getLogger(__name__)

STEP_TASK = "oncall.tasks.page_step_run"
ENGINE = Actor.system(Source.TASK, label="escalation")
# page_stop's status -> the Page transition that ends the page there.
STOPS = {
    PageStatus.ACKNOWLEDGED: "acknowledge",
    PageStatus.RESOLVED: "resolve",
    PageStatus.DISMISSED: "dismiss",
}
REPLY_CODE_TRIES = 20
SWEEP_BATCH = 1000


def minutes(value: float) -> timedelta:
    """Policy minutes as time: ONCALL_MINUTE_SECONDS compresses them in tests and benches."""
    return timedelta(seconds=value * settings.ONCALL_MINUTE_SECONDS)


def _rank(code: str) -> int:
    return int(code[1:]) if code[1:].isdigit() else 99


def page_mode(*, policy: EscalationPolicy, priority_code: str) -> str | None:
    """What this priority earns: page (P1 at a P2 threshold), notify, or nothing (None)."""
    if _rank(priority_code) <= _rank(policy.page_threshold):
        return PageMode.PAGE
    if policy.notify_threshold and _rank(priority_code) <= _rank(policy.notify_threshold):
        return PageMode.NOTIFY
    return None


def policy_for(*, incident: Incident) -> EscalationPolicy | None:
    """The policy of the first alert's rule that has one (the rule knows the alert best), else that of
    the incident's first service (by name) that has one."""
    rule_link = (
        PolicyAlertRule.objects.filter(rule__alerts__incident=incident)
        .select_related("policy")
        .order_by("rule__alerts__received_at", "rule__alerts__id")
        .first()
    )
    if rule_link is not None:
        return rule_link.policy
    service_link = (
        PolicyService.objects.filter(service__incidents=incident)
        .select_related("policy")
        .order_by("service__name", "service_id")
        .first()
    )
    return service_link.policy if service_link is not None else None


def _reply_code() -> str:
    """4 digits while they are easy to find, more when they are not: unique among escalating pages."""
    for length in (4, 5, 6):
        for _ in range(REPLY_CODE_TRIES):
            code = "".join(secrets.choice("0123456789") for _ in range(length))
            if not Page.objects.filter(status=PageStatus.ESCALATING, reply_code=code).exists():
                return code
    return ""  # A million escalating pages: this page goes without an SMS reply code.


def _schedule_step(page: Page, due: datetime) -> None:
    """Store the step's due time and a fresh task id, and send its message for then (after commit)."""
    page.next_step_at = due
    page.task_id = uuid.uuid4().hex
    enqueue_on_commit(STEP_TASK, task_id=page.task_id, eta=due, page_id=page.pk)


def page_open(*, incident: Incident) -> Page | None:
    """Start paging for the incident when its policy and priority call for it. Idempotent: an incident
    has at most one page, and a second call returns it."""
    with transaction.atomic():
        # Under the incident's lock: an acknowledgement racing with the opening is seen either way.
        locked = (
            Incident.objects.select_for_update(of=("self",)).select_related("priority").get(pk=incident.pk)
        )
        existing = Page.objects.select_for_update(of=("self",)).filter(incident=locked).first()
        if locked.status not in OPEN_STATUSES or locked.acknowledged_at is not None:
            return existing  # Someone is on it already.
        if existing is not None:
            if existing.status == PageStatus.NOTIFIED:
                _upgrade(existing, locked)
            return existing
        policy = policy_for(incident=locked)
        if policy is None:
            return None
        mode = page_mode(policy=policy, priority_code=locked.priority.code)
        steps = list(policy.steps.order_by("position"))
        if mode is None or not steps:
            return None
        now = timezone.now()
        page = Page.objects.create(incident=locked, policy=policy, mode=mode, reply_code=_reply_code())
        _schedule_step(page, now + minutes(steps[0].delay_minutes))
        page.save(update_fields=["next_step_at", "task_id", "updated_at"])
        verb = "Paging" if mode == PageMode.PAGE else "Notifying (first step, once)"
        timeline_event_record(
            incident=locked,
            kind=TimelineKind.NOTE,
            by=ENGINE,
            message=f"{verb} through the escalation policy {policy.name}.",
            details={"page": page.pk, "policy": policy.pk, "mode": mode, "escalation": "opened"},
        )
    return page


def _upgrade(page: Page, incident: Incident) -> None:
    """A notified incident whose priority now pages: escalate from the step after the one that
    notified, at once (those people heard of it as a lower priority), then on as the policy says."""
    policy = page.policy
    if policy is None or page_mode(policy=policy, priority_code=incident.priority.code) != PageMode.PAGE:
        return
    steps = list(policy.steps.order_by("position"))
    if not steps:
        return
    # The notify step ran as (pass 0, step 0); the next one is step 1, or pass 1's step 0 when the
    # policy has a single step (PageStep keeps each (pass, step) once).
    page.position, page.loop = (1, 0) if len(steps) > 1 else (0, 1)
    page.upgrade()
    page.mode = PageMode.PAGE
    page.ended_at = None
    page.end_source = ""
    page.reply_code = page.reply_code or _reply_code()
    _schedule_step(page, timezone.now())
    page.save()
    timeline_event_record(
        incident=incident,
        kind=TimelineKind.NOTE,
        by=ENGINE,
        message=f"Now {incident.priority.code}: paging through the escalation policy {policy.name}.",
        details={"page": page.pk, "policy": policy.pk, "mode": PageMode.PAGE, "escalation": "upgraded"},
    )


def _label_delay(seconds: float) -> str:
    if seconds <= 0:
        return "now"
    minutes_ = seconds / settings.ONCALL_MINUTE_SECONDS
    return f"in {minutes_:g} min"


def _kind_label(kind: str) -> str:
    return "SMS" if kind == ContactKind.SMS else ContactKind(kind).label.lower()


def _ack_link(page: Page, user_id: int | None, *, one_click: bool = False) -> str:
    try:
        return ack_link_make(page_id=page.pk, user_id=user_id, one_click=one_click)
    except NoReverseMatch:
        # Only without the oncall:ack route (a deployment that left the oncall URLs out): the page
        # still goes out, without a link to acknowledge from.
        logger.warning("No oncall:ack route: page %s goes out without an acknowledge link.", page.pk)
        return ""


def _event(page: Page, step_label: str, *, key: str, message: str, details: dict[str, Any]) -> dict:
    return {
        "key": key,
        "kind": str(MessageKind.PAGE),
        "topic": "incident",
        "source_kind": "page",
        "incident": page.incident_id,
        "run": None,
        "message": message,
        "details": {"page": page.pk, "step": step_label, "reply_code": page.reply_code, **details},
        "at": timezone.now().isoformat(),
        "by": str(ENGINE),
        "by_user": None,
    }


def _page_person(page: Page, user: User, *, step_label: str, message: str) -> list[str]:
    """Deliveries to each of the user's enabled contact methods, each after its own delay; returns
    labels like "SMS now"."""
    delays = {(m.kind, m.address): m.page_delay_minutes for m in user.contact_methods.all() if m.enabled}
    key = f"page:{page.pk}:{page.loop}:{page.position}:u{user.pk}"
    ack_url = _ack_link(page, user.pk)
    labels = []
    recipients = [
        (minutes(delays.get((r.contact_kind, r.address), 0)).total_seconds(), r)
        for r in person_recipients(user, kinds=list(ContactKind.values))
    ]
    for delay, recipient in sorted(recipients, key=lambda pair: pair[0]):
        details = {"ack_url": ack_url, "contact_kind": recipient.contact_kind}
        if recipient.contact_kind == ContactKind.SMS:
            # Only an SMS names the reply code: email and chat have the link (and Slack its buttons).
            details["sms_reply_code"] = page.reply_code
            if settings.ONCALL_SMS_ONE_CLICK_ACK:
                details["ack_url_one_click"] = _ack_link(page, user.pk, one_click=True)
        event = _event(page, step_label, key=key, message=message, details=details)
        # Each contact method its own event copy: the SMS one carries its one-click link.
        deliveries_create(
            event=event,
            incident=page.incident,
            planned=[(None, replace(recipient, delay_seconds=delay))],
        )
        labels.append(f"{_kind_label(recipient.contact_kind)} {_label_delay(delay)}")
    return labels


def _page_channels(page: Page, step: EscalationStep, *, step_label: str, message: str) -> list[str]:
    channels = [channel for channel in step.channels.all() if channel.enabled]
    if not channels:
        return []
    key = f"page:{page.pk}:{page.loop}:{page.position}:channels"
    event = _event(page, step_label, key=key, message=message, details={"ack_url": _ack_link(page, None)})
    planned = [(None, Recipient(target_key=f"c:{channel.pk}", channel=channel)) for channel in channels]
    deliveries_create(event=event, incident=page.incident, planned=planned)
    return [channel.name if channel.name.startswith("#") else f"#{channel.name}" for channel in channels]


def _step_targets(step: EscalationStep, at: datetime) -> tuple[list[User], list[str]]:
    """The people of a step (named users, then whoever is on call on its schedules), once each, and
    the notes for schedules nobody is on."""
    people: dict[int, User] = {}
    for user in step.users.all():
        if user.is_active:
            people.setdefault(user.pk, user)
    empty: list[str] = []
    schedules = list(step.schedules.all())
    if schedules:
        # Who is on call at the moment the step runs, not when the page opened.
        on_call = oncall_at(schedules=schedules, at=at, all_layers=step.notify_all_oncall)
        for schedule in schedules:
            found = [user for user in on_call.get(schedule.pk, []) if user.is_active]
            if not found:
                empty.append(f"Nobody on call on {schedule.name}.")
            for user in found:
                people.setdefault(user.pk, user)
    return list(people.values()), empty


def page_step_run(*, page_id: int, task_id: str) -> None:
    """Run the page's next step if this message is the one scheduled for it and it is due."""
    with transaction.atomic():
        page = (
            Page.objects.select_for_update(of=("self",))
            .select_related("incident", "incident__priority", "policy")
            .filter(pk=page_id)
            .first()
        )
        if page is None or page.task_id != task_id or page.status != PageStatus.ESCALATING:
            return  # Stale: a newer message (the sweeper's) or a page that ended.
        now = timezone.now()
        if page.next_step_at is None or page.next_step_at > now:
            return
        incident = page.incident
        if incident.acknowledged_at is not None or incident.status not in OPEN_STATUSES:
            # The ack (or resolution) happened; its own stop message may still be on its way.
            status = PageStatus.ACKNOWLEDGED if incident.status in OPEN_STATUSES else PageStatus.RESOLVED
            _stop(page, status=status, by=ENGINE, now=now)
            return
        steps = list(page.policy.steps.order_by("position")) if page.policy else []
        if page.position >= len(steps):
            # The policy lost steps while the page waited: end it rather than guess.
            _end(page, "exhaust", now, "The escalation policy has no step left to run.")
            return
        due = page.next_step_at
        try:
            with transaction.atomic():
                step_row = PageStep.objects.create(
                    page=page, loop=page.loop, position=page.position, due_at=due, ran_at=now
                )
        except IntegrityError:
            return  # Another worker ran this step already.
        step = steps[page.position]
        step_label = f"step {page.position + 1}" + (f", pass {page.loop + 1}" if page.loop else "")
        people, empty_notes = _step_targets(step, now)
        prefetch_related_objects(people, "contact_methods")
        message = f"You are paged for {incident.reference} [{incident.priority.code}] {incident.title}."
        told = []
        for user in people:
            kinds = _page_person(page, user, step_label=step_label, message=message)
            told.append(
                f"{user.get_username()} ({', '.join(kinds)})"
                if kinds
                else f"{user.get_username()} (no contact method)"
            )
        told += _page_channels(page, step, step_label=step_label, message=message)
        step_row.notified = told + empty_notes
        step_row.save(update_fields=["notified"])
        previous = PageStep.objects.filter(page=page).exclude(pk=step_row.pk).order_by("-due_at").first()
        waited = (due - previous.due_at).total_seconds() / settings.ONCALL_MINUTE_SECONDS if previous else 0
        _record_step(page, step_label=step_label, told=told, empty_notes=empty_notes, waited=waited)
        _advance(page, steps, due=due, now=now)


def _record_step(
    page: Page, *, step_label: str, told: list[str], empty_notes: list[str], waited: float
) -> None:
    """`waited`: policy minutes since the step before (which may have been a P3's notice, long ago)."""
    if told:
        who = ", ".join(told)
        if page.position == 0 and page.loop == 0:
            message = f"Paged {who} ({step_label})."
        else:
            message = f"No acknowledgement after {round(waited):g} min: escalated to {who} ({step_label})."
    else:
        message = f"Nobody to page at {step_label}: moving on."
    if empty_notes:
        message = f"{message} {' '.join(empty_notes)}"
    timeline_event_record(
        incident=page.incident,
        kind=TimelineKind.NOTE,
        by=ENGINE,
        message=message,
        details={"page": page.pk, "loop": page.loop, "position": page.position, "escalation": "step"},
    )


def _advance(page: Page, steps: list[EscalationStep], *, due: datetime, now: datetime) -> None:
    if page.mode == PageMode.NOTIFY:
        _end(page, "finish_notify", now, "")
        return
    position, loop = page.position + 1, page.loop
    if position >= len(steps):
        position, loop = 0, loop + 1
    passes = page.policy.repeat_count + 1
    if loop >= passes:
        _end(page, "exhaust", now, f"Nobody acknowledged after {passes} pass{'es' if passes > 1 else ''}.")
        return
    page.advance()
    gap = steps[position].delay_minutes
    if position == 0:
        # A new pass: the last step's people get as long as the step before them did, not zero.
        gap = steps[0].delay_minutes or steps[-1].delay_minutes
    page.position, page.loop = position, loop
    # From the due time, not from now: a late step does not push every later one back.
    _schedule_step(page, due + minutes(gap))
    page.save()


def _close(page: Page, transition: str, *, by: Actor, now: datetime) -> None:
    """Apply an ending transition and record when, by whom and through what it ended."""
    getattr(page, transition)()
    page.ended_at = now
    page.ended_by = by.user
    page.end_source = by.source
    page.next_step_at = None
    page.save()


def _end(page: Page, transition: str, now: datetime, message: str) -> None:
    _close(page, transition, by=ENGINE, now=now)
    if message:
        timeline_event_record(
            incident=page.incident,
            kind=TimelineKind.NOTE,
            by=ENGINE,
            message=message,
            details={"page": page.pk, "escalation": page.status},
        )


def _stop(page: Page, *, status: str, by: Actor, now: datetime) -> int:
    _close(page, STOPS[status], by=by, now=now)
    cancelled = 0
    pending = Delivery.objects.select_for_update(of=("self",)).filter(
        event_key__startswith=f"page:{page.pk}:", status__in=(DeliveryStatus.PENDING, DeliveryStatus.FAILED)
    )
    for delivery in pending:
        # Locked and read again: one being sent right now is `sending`, and is left to finish.
        if can_proceed(delivery.cancel):
            delivery.cancel()
            delivery.save(update_fields=["status", "updated_at"])
            cancelled += 1
    source = Source(by.source).label.lower() if by.source in Source.values else by.source
    timeline_event_record(
        incident=page.incident,
        kind=TimelineKind.NOTE,
        by=by,
        message=f"Escalation stopped: {PageStatus(status).label.lower()} by {by} via {source}.",
        details={"page": page.pk, "escalation": status, "cancelled_deliveries": cancelled},
    )
    return cancelled


def page_stop(*, incident_id: int, status: str, by: Actor) -> Page | None:
    """End the incident's escalation (acknowledged, resolved or dismissed) and cancel the page's
    messages still waiting to go. Nothing to do when there is no page or it ended already."""
    if status not in STOPS:
        raise ValueError(f"A page stops as one of {sorted(STOPS)}, not {status!r}.")
    with transaction.atomic():
        page = (
            Page.objects.select_for_update(of=("self",))
            .select_related("incident")
            .filter(incident_id=incident_id)
            .first()
        )
        if page is None or page.status != PageStatus.ESCALATING:
            return page
        _stop(page, status=status, by=by, now=timezone.now())
    return page


def page_acknowledge(*, page: Page, by: Actor) -> Incident:
    """Acknowledge the page's incident and end its escalation in one transaction, so whoever
    acknowledged from the page sees it stopped; the listener's stop, arriving later, finds it ended."""
    with transaction.atomic():
        incident = incident_acknowledge(incident=page.incident, by=by)
        page_stop(incident_id=incident.pk, status=PageStatus.ACKNOWLEDGED, by=by)
    return incident


def pages_sweep(*, now: datetime | None = None) -> int:
    """Beat: send again the message of every step overdue by more than the grace (lost, or its
    worker died). The new task id makes the old message, should it turn up, a no-op."""
    now = now or timezone.now()
    overdue = now - timedelta(seconds=settings.ONCALL_SWEEP_GRACE_SECONDS)
    due = Page.objects.filter(status=PageStatus.ESCALATING, next_step_at__lte=overdue).values_list(
        "pk", flat=True
    )[:SWEEP_BATCH]
    swept = 0
    for page_id in list(due):
        with transaction.atomic():
            page = (
                Page.objects.select_for_update(of=("self",), skip_locked=True)
                .filter(pk=page_id, status=PageStatus.ESCALATING, next_step_at__lte=overdue)
                .first()
            )
            if page is None:
                continue  # Being run right now, or ended meanwhile.
            _schedule_step(page, page.next_step_at)
            page.save(update_fields=["task_id", "next_step_at", "updated_at"])
            swept += 1
    return swept
