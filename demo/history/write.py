"""history_write: the plans stored with `bulk_create` in batches, references numbered through
IncidentSequence."""

from collections.abc import Iterable
from contextlib import contextmanager
from datetime import datetime

from django.core.exceptions import FieldDoesNotExist
from django.db import transaction
from django.utils import timezone

from actions.models import ActionRun
from alerts.choices import AlertStatus
from alerts.models import Alert
from common.actor import Source
from demo.history.data import BATCH_SIZE, MARKER
from demo.history.events import timeline_events
from demo.history.plans import Catalog, IncidentPlan
from incidents.models import Incident, IncidentSequence, TimelineEvent
from incidents.services import incident_repeat_mark
from postmortems.choices import POSTMORTEM_PRIORITIES
from postmortems.models import ActionItem, Postmortem


@contextmanager
def keep_timestamps(*models):
    """Let bulk_create store the historical created_at/updated_at given, instead of now.

    auto_now(_add) fields overwrite the value in pre_save; this turns that off for these models
    for the block only (a management command or a benchmark, single-threaded)."""
    saved = []
    for model in models:
        for name in ("created_at", "updated_at"):
            try:
                f = model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            saved.append((f, f.auto_now, f.auto_now_add))
            f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def history_write(
    *, catalog: Catalog, plans: Iterable[IncidentPlan], batch_size: int = BATCH_SIZE
) -> dict[str, int]:
    """Store the plans (oldest first) with bulk_create, `batch_size` incidents at a time, numbering
    references after the year's last number. Returns how many rows of each kind it wrote."""
    counts = dict.fromkeys(
        ["incidents", "alerts", "runs", "postmortems", "action items", "timeline events"], 0
    )
    counts.update(auto_resolved=0, drills=0, reopened=0)
    with transaction.atomic(), keep_timestamps(Incident, Alert, ActionRun, Postmortem, ActionItem):
        numbers: dict[int, int] = {}
        batch: list[IncidentPlan] = []
        for plan in plans:
            batch.append(plan)
            if len(batch) >= batch_size:
                _write_batch(catalog, batch, numbers, counts)
                batch = []
        if batch:
            _write_batch(catalog, batch, numbers, counts)
        for year, last in numbers.items():
            IncidentSequence.objects.filter(year=year).update(last_number=last)
        # Marked as the services mark live incidents, once every earlier incident is in place.
        counts["repeats"] = sum(
            incident_repeat_mark(incident=incident)
            for incident in Incident.objects.filter(description__startswith=MARKER).order_by(
                "detected_at", "pk"
            )
        )
    return counts


def _next_reference(numbers: dict[int, int], when: datetime) -> str:
    year = timezone.localtime(when).year
    if year not in numbers:
        # Locked to the end of the transaction: an incident_create meanwhile waits, then continues
        # after the numbers taken here.
        sequence, _ = IncidentSequence.objects.select_for_update().get_or_create(year=year)
        numbers[year] = sequence.last_number
    numbers[year] += 1
    return f"INC-{year}-{numbers[year]:04d}"


def _write_batch(catalog: Catalog, plans: list[IncidentPlan], numbers: dict, counts: dict) -> None:
    users = catalog.users
    incidents = []
    for plan in plans:
        last = max(t for t in (plan.detected_at, plan.resolved_at, plan.closed_at) if t is not None)
        assignee = users[plan.assignee] if plan.assignee is not None else None
        incidents.append(
            Incident(
                reference=_next_reference(numbers, plan.detected_at),
                title=plan.title[:200],
                description=f"{MARKER}\nFirst alert: {plan.alert_name}." if plan.alerts else MARKER,
                priority=catalog.priorities[plan.priority],
                assignee=assignee,
                commander=assignee if plan.priority in POSTMORTEM_PRIORITIES else None,
                status=plan.status,
                root_cause_category=plan.root_cause,
                users_affected=plan.users_affected,
                is_drill=plan.is_drill,
                started_at=plan.started_at,
                detected_at=plan.detected_at,
                acknowledged_at=plan.acknowledged_at,
                resolved_at=plan.resolved_at,
                closed_at=plan.closed_at,
                resolution_summary="Resolved by automation." if plan.auto_resolved else "",
                dismissal_reason=plan.dismissal_reason,
                reopen_count=plan.reopen_count,
                auto_resolved=plan.auto_resolved,
                response_due_at=plan.response_due_at,
                resolution_due_at=plan.resolution_due_at,
                response_breached_at=plan.response_breached_at,
                resolution_breached_at=plan.resolution_breached_at,
                created_at=plan.detected_at,
                updated_at=last,
            )
        )
    Incident.objects.bulk_create(incidents, batch_size=BATCH_SIZE)
    through = Incident.services.through
    through.objects.bulk_create(
        [
            through(incident_id=incident.pk, service_id=catalog.services[slug].pk)
            for incident, plan in zip(incidents, plans, strict=True)
            for slug in plan.services
        ],
        batch_size=BATCH_SIZE,
    )

    alerts, runs, events, postmortems = [], [], [], []
    for incident, plan in zip(incidents, plans, strict=True):
        service = catalog.services[plan.services[0]]
        for alert in plan.alerts:
            alerts.append(
                Alert(
                    source=catalog.source,
                    fingerprint=alert.fingerprint,
                    name=alert.name,
                    status=AlertStatus.RESOLVED,
                    severity=alert.severity,
                    labels={"alertname": alert.name, "service": service.slug, "severity": alert.severity},
                    annotations={"summary": plan.title},
                    starts_at=alert.starts_at,
                    ends_at=alert.ends_at,
                    received_at=alert.received_at,
                    last_received_at=alert.ends_at,
                    service=service,
                    incident=incident,
                    processed=True,
                    processed_at=alert.received_at,
                    opened_incident=alert.opened_incident,
                    created_at=alert.received_at,
                    updated_at=alert.ends_at,
                )
            )
        for run in plan.runs:
            runs.append(
                ActionRun(
                    action=catalog.actions[run.action],
                    incident=incident,
                    requested_via=Source.TASK if run.automated else Source.ADMIN,
                    requested_label="auto-remediation" if run.automated else "",
                    automated=run.automated,
                    requested_by=None if run.automated or plan.assignee is None else users[plan.assignee],
                    status=run.status,
                    started_at=run.started_at,
                    finished_at=run.finished_at,
                    error=run.error,
                    created_at=run.started_at,
                    updated_at=run.finished_at,
                )
            )
        events.extend(timeline_events(incident, plan, users))
        if plan.postmortem is not None:
            pm = plan.postmortem
            postmortems.append(
                Postmortem(
                    incident=incident,
                    status=pm.status,
                    severity=plan.priority,
                    executive_summary=f"{plan.title}. Detected by {plan.alert_name}.",
                    root_cause=pm.root_cause,
                    detection=f"The {plan.alert_name} alert fired.",
                    resolution="Resolved by automation." if plan.auto_resolved else "Fixed by the on-call.",
                    submitted_at=pm.submitted_at,
                    published_at=pm.published_at,
                    created_at=pm.created_at,
                    updated_at=pm.published_at or pm.submitted_at or pm.created_at,
                )
            )
    Alert.objects.bulk_create(alerts, batch_size=BATCH_SIZE)
    ActionRun.objects.bulk_create(runs, batch_size=BATCH_SIZE)
    TimelineEvent.objects.bulk_create(events, batch_size=BATCH_SIZE)
    Postmortem.objects.bulk_create(postmortems, batch_size=BATCH_SIZE)
    pm_plans = [plan for plan in plans if plan.postmortem is not None]
    impacted = Postmortem.services_impacted.through
    impacted.objects.bulk_create(
        [
            impacted(postmortem_id=pm.pk, service_id=catalog.services[slug].pk)
            for pm, plan in zip(postmortems, pm_plans, strict=True)
            for slug in plan.services
        ],
        batch_size=BATCH_SIZE,
    )
    items = [
        ActionItem(
            postmortem=pm,
            description=item.description,
            kind=item.kind,
            owner=users[item.owner],
            due_date=item.due_date,
            status=item.status,
            completed_at=item.completed_at,
            wont_do_reason=item.wont_do_reason,
            created_at=item.created_at,
            updated_at=item.completed_at or item.created_at,
        )
        for pm, plan in zip(postmortems, pm_plans, strict=True)
        for item in plan.postmortem.items
    ]
    ActionItem.objects.bulk_create(items, batch_size=BATCH_SIZE)

    counts["incidents"] += len(incidents)
    counts["alerts"] += len(alerts)
    counts["runs"] += len(runs)
    counts["postmortems"] += len(postmortems)
    counts["action items"] += len(items)
    counts["timeline events"] += len(events)
    counts["auto_resolved"] += sum(p.auto_resolved for p in plans)
    counts["drills"] += sum(p.is_drill for p in plans)
    counts["reopened"] += sum(p.reopen_count > 0 for p in plans)
