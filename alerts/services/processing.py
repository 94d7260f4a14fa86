"""Processing stored alerts: silences, rule matches, incidents and automated responses for a firing
alert; timeline entries, cancelled pending runs and the closed-loop check for a resolved one.

Each alert is processed once per change, in its own transaction under its row lock: the `processed`
flag makes a duplicate task or a sweeper pass that overlaps the task do nothing."""

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from actions.choices import RunStatus
from actions.models import ActionRun
from actions.services import action_run_cancel, action_run_execute, action_run_request
from actions.services.runs import run_enqueue
from alerts.choices import AlertStatus, IncidentPolicy, ResponseTrigger
from alerts.incident_prefill import alert_incident_prefill, alert_plan_for
from alerts.models import Alert, AlertRule, TriggeredRun
from alerts.response_parameters import TemplateError, alert_context, response_parameters, response_problems
from alerts.selectors import AlertPlan, alert_plans, incident_open_for_group
from alerts.services.ingest import processing_enqueue
from alerts.sql_rows import models_with_related, related_select
from common.actor import Actor, Source
from common.binding import server_side_binding
from common.commit_flush import commit_without_flush_wait
from common.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from common.json_rows import rows_update
from incidents.choices import EventKind
from incidents.derived import incidents_changes_gathered
from incidents.models import Incident, Priority
from incidents.services import (
    TimelineEntry,
    incident_create,
    incident_repeat_mark,
    timeline_event_record,
    timeline_events_record,
)
from incidents.services.incidents import ADD_PERMISSION
from incidents.services.references import reference_pending, references_assign, references_deferred

logger = logging.getLogger(__name__)

# Runs a resolution makes pointless: they have not started, and a person or a timer was to start them.
CANCELLABLE = (RunStatus.PENDING, RunStatus.AWAITING_APPROVAL, RunStatus.APPROVED, RunStatus.SCHEDULED)
SWEEP_GRACE = timedelta(seconds=10)
SWEEP_BATCH = 500


def _actor(rule: AlertRule | None) -> Actor:
    return Actor.system(source=Source.TASK, label=f"alert-rule:{rule.name}" if rule else "alert-processing")


def alerts_process(*, alert_ids: list[int], start_runs: bool = False) -> int:
    """Process the alerts of one message together, in one transaction (see `_batch_process`);
    returns how many were processed by this call. When the batch fails, each alert is tried again
    in a transaction of its own, so one bad alert does not hold back the rest.

    `start_runs` (the processing task): the first run an immediate response requests is started
    and carried out by this call, once processing has committed, rather than by an execute message
    to another worker (a second trip through the broker on an alert's way to its first step). The
    other runs get their messages as usual, and so does every run when this call is inside someone
    else's transaction (no commit to start it after)."""
    if not alert_ids:
        return 0
    starts: list[ActionRun] | None = [] if start_runs else None
    try:
        done = len(_batch_process(alert_ids, starts))
    except Exception:
        if len(alert_ids) > 1:
            logger.warning(
                "Processing %d alerts together failed; one by one now", len(alert_ids), exc_info=True
            )
        done = 0
        for alert_id in alert_ids:
            try:
                done += bool(_batch_process([alert_id], starts))
            except Exception as error:
                # It stays unprocessed for the sweeper to retry, a bounded number of times.
                logger.exception("Processing alert %s failed", alert_id)
                _failure_record(alert_id, error)
    for run in starts or ():
        _run_start(run)
    return done


def _run_start(run: ActionRun) -> None:
    """Start and carry out a run processing requested without a message, its request committed.
    Exactly once, as with a message: action_run_execute starts a run only while it is scheduled
    under its task id, under its row lock. If this fails, the run's message is sent after all (it
    does nothing if the run did start); if this process dies first, the sweeper dispatches the run
    (actions.services.sweeper)."""
    try:
        action_run_execute(run_id=run.pk, task_id=run.task_id, requested=run)
    except Exception:
        logger.exception("Run #%s failed in alert processing's worker; sent to the queue", run.pk)
        run_enqueue(run)


def _failure_record(alert_id: int, error: Exception) -> None:
    """Count a failed attempt, with its error, on the alert; at ALERT_PROCESSING_MAX_ATTEMPTS mark
    it failed, so the sweeper stops retrying what fails every time (a person can retry it)."""
    message = f"{type(error).__name__}: {error}"[:ERROR_LENGTH]
    try:
        with transaction.atomic():
            alert = Alert.objects.select_for_update().filter(pk=alert_id, processed=False).first()
            if alert is None or alert.processing_failed_at is not None:
                return
            alert.processing_attempts += 1
            alert.processing_error = message
            if alert.processing_attempts >= settings.ALERT_PROCESSING_MAX_ATTEMPTS:
                alert.processing_failed_at = timezone.now()
                _note(alert, f"Processing failed {alert.processing_attempts} times; given up: {message}")
                logger.error(
                    "Alert %s failed processing %d times; marked failed", alert_id, alert.processing_attempts
                )
            alert.save(update_fields=[*FAILURE_FIELDS, "notes", "updated_at"])
    except DatabaseError:
        # The database itself is what failed (or still is): nothing to record the attempt in.
        logger.warning("Could not record the failed processing of alert %s", alert_id, exc_info=True)


FAILURE_FIELDS = ["processing_attempts", "processing_error", "processing_failed_at"]
ERROR_LENGTH = 2000


def alerts_processing_retry(*, alert_ids: list[int], by: Actor) -> int:
    """A person retries alerts marked failed (after fixing what made them fail): their attempts start
    over and they are enqueued. Returns how many were failed and are now retried."""
    by.require("alerts.change_alert", "retry alert processing")
    with transaction.atomic():
        retried = list(
            Alert.objects.select_for_update()
            .filter(pk__in=alert_ids, processed=False, processing_failed_at__isnull=False)
            .order_by("pk")
        )
        for alert in retried:
            alert.processing_attempts = 0
            alert.processing_failed_at = None
            _note(alert, f"{by} retried processing after: {alert.processing_error}")
            alert.save(update_fields=[*FAILURE_FIELDS, "notes", "updated_at"])
        processing_enqueue([alert.pk for alert in retried])
    return len(retried)


def alert_process(*, alert_id: int) -> Alert | None:
    """Process one alert's latest change; None if it is gone, already processed, or being
    processed (or changed) by someone else right now."""
    processed = _batch_process([alert_id])
    return processed[0] if processed else None


# What processing changes on an alert, written with one bulk UPDATE per batch.
PROCESSED_FIELDS = [
    "matches",
    "silenced_by",
    "notes",
    "service",
    "rule",
    "group_key",
    "incident",
    "opened_incident",
    "processed",
    "processed_at",
    *FAILURE_FIELDS,
    "updated_at",
]


class _Batch:
    """What one batch shares: the rules it locked, the incident each group is in by now, the
    priorities by code, and the writes gathered to be made at once (timeline events, incidents whose
    repeat flag may change, incidents whose closed loop to check after commit)."""

    def __init__(self, *, start_here: bool = False) -> None:
        # Whether the batch's first immediate run is started by this process after commit
        # (alerts_process's `start_runs`): that run, in `starts`.
        self.start_here = start_here
        self.starts: list[ActionRun] = []
        self.groups: dict[tuple[int, str, bool], Incident | None] = {}
        self.events: list[TimelineEntry] = []
        self.repeat_checks: dict[int, tuple[Incident, set[str]]] = {}
        self.closed_loop_checks: list[int] = []
        # Notes naming an incident opened in this batch, whose number is given at its end.
        self.notes_pending: list[tuple[Alert, Incident, str]] = []
        self._priorities: dict[str, Priority] | None = None

    @property
    def priorities(self) -> dict[str, Priority]:
        if self._priorities is None:
            self._priorities = {priority.code: priority for priority in Priority.objects.all()}
        return self._priorities

    def events_flush(self) -> None:
        timeline_events_record(entries=self.events)
        self.events = []

    def note(self, alert: Alert, incident: Incident, line: str) -> None:
        """A note naming the incident (`{reference}` in `line`): now, or once it is numbered."""
        if reference_pending(incident):
            self.notes_pending.append((alert, incident, line))
        else:
            _note(alert, line.format(reference=incident.reference))

    def references_assign(self) -> None:
        """Number the incidents opened so far (incidents.services.references) and write the notes
        that name them."""
        references_assign()
        for alert, incident, line in self.notes_pending:
            _note(alert, line.format(reference=incident.reference))
        self.notes_pending = []


def _batch_process(alert_ids: list[int], starts: list[ActionRun] | None = None) -> list[Alert]:
    """Process the latest change of these alerts in one transaction: one locking read of the
    alerts, their groups' open incidents (and a lock on the rules of groups that have none, see
    `_groups_find`), rule matching in memory (alerts.selectors.alert_plans),
    the joins' timeline events in one INSERT and the alerts in one UPDATE, one repeat check per
    incident. Alerts already processed are skipped, and so are alerts another transaction holds
    (another worker with the same message, or an ingestion changing them, which sends a message of
    its own after it commits): `processed` flips once, under the row lock. Returns the processed
    alerts, in id order. `starts` (alerts_process's `start_runs`), when given and still empty,
    receives the first immediate run requested, once the transaction has committed.

    The locks every opener of incidents waits for are taken last, just before commit: the
    incidents opened get their numbers together after the batch's other writes (the sequence row,
    incidents.services.references), and the analytics rollups are refreshed once for all the
    batch's incidents (their day's row, incidents.derived), in the order a single incident_create
    takes them (sequence, then rollups), so nothing deadlocks on them."""
    now = timezone.now()
    outermost = not connection.in_atomic_block
    batch = _Batch(start_here=outermost and starts is not None and not starts)
    with transaction.atomic(), incidents_changes_gathered(), references_deferred():
        # Derived from durable alerts, and redone by the sweeper if a crash loses it (common.commit_flush).
        commit_without_flush_wait(outermost=outermost)
        alerts = _alerts_lock(alert_ids)
        if not alerts:
            return []
        firing = [alert for alert in alerts if alert.status == AlertStatus.FIRING]
        plans = dict(zip((alert.pk for alert in firing), alert_plans(firing), strict=True))
        _groups_find(firing, plans, batch)
        for alert in alerts:
            if alert.status == AlertStatus.FIRING:
                _process_firing(alert, plans[alert.pk], batch)
            else:
                _process_resolved(alert, batch)
            alert.processed = True
            alert.processed_at = now
            alert.processing_attempts, alert.processing_error, alert.processing_failed_at = 0, "", None
            alert.updated_at = now  # bulk_update does not apply auto_now
        # One JSON document each on PostgreSQL (common.json_rows), bound apart from the SQL text.
        with server_side_binding():
            batch.events_flush()
            batch.references_assign()  # The notes name the incidents opened.
            _alerts_write(alerts)
        for incident, names in batch.repeat_checks.values():
            incident_repeat_mark(incident=incident, names=names)
    if batch.closed_loop_checks:
        from alerts.services.closed_loop import incident_closed_loop_check

        for incident_id in dict.fromkeys(batch.closed_loop_checks):
            incident_closed_loop_check(incident_id=incident_id)
    if starts is not None:
        starts.extend(batch.starts)
    return alerts


# The related rows processing reads on each alert, loaded with it as select_related would.
_RELATED = ("source", "service", "incident")


def _alerts_lock(alert_ids: list[int]) -> list[Alert]:
    """The batch's unprocessed alerts, in id order, with their source, service and incident, locked
    (FOR UPDATE OF the alerts, SKIP LOCKED where the database has it): one hand-written SELECT, made
    into the objects the queryset `Alert.objects.select_for_update(of=("self",), skip_locked=True)
    .select_related("source", "service", "incident").filter(pk__in=alert_ids, processed=False)
    .order_by("pk")` gave (alerts.sql_rows), without compiling it on every batch."""
    columns, joins = related_select(Alert, _RELATED, "a")
    sql = (
        f'SELECT {columns} FROM "{Alert._meta.db_table}" a {joins} '
        f'WHERE a."id" IN ({", ".join(["%s"] * len(alert_ids))}) AND NOT a."processed" ORDER BY a."id"'
    )
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE OF a"
        if connection.features.has_select_for_update_skip_locked:
            sql += " SKIP LOCKED"
    with connection.cursor() as cursor:
        cursor.execute(sql, list(alert_ids))
        return models_with_related(Alert, _RELATED, cursor.fetchall())


def _groups_find(firing: list[Alert], plans: dict[int, AlertPlan], batch: _Batch) -> None:
    """The open incident of each group the batch's alerts attach to, in `batch.groups`.

    First without a lock: a group whose incident is open is joined as it is, so two workers join
    a storm's group side by side (joining writes only the alerts and their timeline events). A group
    without one may need an incident opened: its rule's row is locked, which serializes the alerts
    of a rule, so two of a group in different batches cannot both open one, and the group is looked
    up again under the lock (its holder may have opened it meanwhile). The rules are locked at
    once, in id order: two batches never deadlock. FOR NO KEY UPDATE: it still excludes the other
    openers, but not the foreign-key checks on the rule (a KEY SHARE lock, taken at commit by an
    opener whose alerts name it): with FOR UPDATE an opener holding the rule and waiting for the
    incident numbers deadlocked with one holding the numbers and committing (the scale-out bench)."""
    groups: dict[tuple[int, str, bool], AlertRule] = {}
    for alert in firing:
        plan = plans[alert.pk]
        if plan.policy == IncidentPolicy.ATTACH and plan.rule is not None:
            groups.setdefault((plan.rule.pk, plan.group_key, alert.source.is_drill), plan.rule)
    for group, rule in groups.items():
        batch.groups[group] = incident_open_for_group(rule=rule, key=group[1], is_drill=group[2])
    unopened = [group for group in groups if batch.groups[group] is None]
    if not unopened:
        return
    locked = sorted({rule_id for rule_id, _, _ in unopened})
    rules = AlertRule.objects.select_for_update(no_key=True).filter(pk__in=locked).order_by("pk")
    list(rules.values_list("pk"))
    for group in unopened:
        batch.groups[group] = incident_open_for_group(rule=groups[group], key=group[1], is_drill=group[2])


def _alerts_write(alerts: list[Alert]) -> None:
    """One statement for the batch. On PostgreSQL an UPDATE of PROCESSED_FIELDS from the rows as
    one JSON document (common.json_rows: the column arrays below cost more to bind than the
    statement took). Elsewhere an INSERT ... ON CONFLICT (id) DO UPDATE of PROCESSED_FIELDS,
    which always conflicts (the rows exist, locked by us). Django's bulk_update would build a CASE
    per field and row, which costs more than all the rest of the batch."""
    if connection.vendor == "postgresql":
        rows_update(alerts, PROCESSED_FIELDS)
        return
    created = [alert.created_at for alert in alerts]
    Alert.objects.bulk_create(
        alerts, update_conflicts=True, unique_fields=["id"], update_fields=PROCESSED_FIELDS
    )
    for alert, created_at in zip(alerts, created, strict=True):
        alert.created_at = created_at  # bulk_create's auto_now_add set it on the instance (not the row)


def _braces(text: str) -> str:
    """Text put into a str.format template as it is."""
    return text.replace("{", "{{").replace("}", "}}")


def _note(alert: Alert, line: str) -> None:
    alert.notes = [*alert.notes, f"{timezone.now():%Y-%m-%d %H:%M:%S} {line}"]


def _process_firing(alert: Alert, plan: AlertPlan, batch: _Batch) -> None:
    alert.matches = plan.matches_record()
    if plan.silence is not None:
        alert.silenced_by = plan.silence
        _note(alert, f"Silenced by silence #{plan.silence.pk} ({plan.silence.reason}): nothing triggered.")
        return
    if not plan.matches:
        _note(alert, "No rule matched: stored only.")
        return
    alert.service = plan.service
    alert.rule = plan.rule
    alert.group_key = plan.group_key
    incident = _incident_for(alert, plan, batch)
    # Its alert names just grew (incident_repeat_mark's `names`); an incident opened here without a
    # service shares none with a precedent, nor does one the group's lookup found without any.
    if (
        incident is not None
        and not incident.is_repeat
        and (plan.service or not alert.opened_incident)
        and getattr(incident, "has_services", True)
    ):
        batch.repeat_checks.setdefault(incident.pk, (incident, set()))[1].add(alert.name)
    _responses_trigger(alert, plan, incident, batch)


def _incident_for(alert: Alert, plan: AlertPlan, batch: _Batch) -> Incident | None:
    if plan.policy == IncidentPolicy.NONE or plan.rule is None:
        _note(alert, "Matched rules open no incident.")
        return None
    by = _actor(plan.rule)
    incident = None
    group = (plan.rule.pk, plan.group_key, alert.source.is_drill)
    if plan.policy == IncidentPolicy.ATTACH:
        incident = batch.groups[group]  # Found (or its rule locked) by _groups_find.
    if incident is None:
        incident = _incident_open(alert, plan, by, priorities=batch.priorities)
        alert.opened_incident = True
        batch.note(alert, incident, "Opened {reference} (" + _braces(plan.rule.name) + ").")
        if plan.policy == IncidentPolicy.ATTACH:
            batch.groups[group] = incident  # The group's next alerts in this batch join it.
    else:
        batch.note(alert, incident, "Joined {reference}, open for group " + _braces(plan.group_key) + ".")
    alert.incident = incident
    batch.events.append(
        TimelineEntry(
            incident=incident,
            kind=EventKind.ALERT_ATTACHED,
            by=by,
            message=f"Alert {alert.name or alert.fingerprint} fired"
            + (" and opened this incident." if alert.opened_incident else " and joined this incident."),
            details=_alert_details(alert, plan),
            at=alert.received_at,
        )
    )
    return incident


def _alert_details(alert: Alert, plan: AlertPlan | None = None) -> dict[str, Any]:
    details: dict[str, Any] = {
        "alert": alert.pk,
        "name": alert.name,
        "fingerprint": alert.fingerprint,
        "source": alert.source.slug,
        "labels": alert.labels,
    }
    if plan is not None and plan.rule is not None:
        details.update(rule=plan.rule.name, group_key=plan.group_key)
    return details


def _incident_open(
    alert: Alert,
    plan: AlertPlan,
    by: Actor,
    *,
    title: str | None = None,
    description: str | None = None,
    priority: Priority | None = None,
    assignee: AbstractBaseUser | None = None,
    priorities: dict[str, Priority] | None = None,
) -> Incident:
    """Open the incident the alert gives (alerts.incident_prefill); a person may have changed the
    title, description, priority and assignee first."""
    prefill = alert_incident_prefill(alert=alert, plan=plan, priorities=priorities)
    return incident_create(
        by=by,
        title=prefill.title if title is None else title,
        description=prefill.description if description is None else description,
        priority=prefill.priority if priority is None else priority,
        services=prefill.services,
        assignee=assignee,
        # MTTD: the impact began when the alert started; we knew when it reached us.
        started_at=min(alert.starts_at, alert.received_at),
        detected_at=alert.received_at,
        # An alert posted through a drill source is an exercise: its incident is a drill.
        is_drill=alert.source.is_drill,
        mark_repeat=False,  # Callers mark it once the alert is linked.
    )


def _responses_trigger(alert: Alert, plan: AlertPlan, incident: Incident | None, batch: _Batch) -> None:
    if not plan.responses:
        return
    # The alert's own event first on the timeline, then the runs it requested, as one by one.
    batch.events_flush()
    batch.references_assign()  # The parameters may name the incident.
    context = alert_context(alert, incident)
    for response in plan.responses:
        by = _actor(response.rule)
        due_at = None
        if response.trigger == ResponseTrigger.AFTER_DELAY:
            due_at = alert.received_at + timedelta(seconds=response.delay_seconds)
        try:
            refused = response_problems(response)  # The action may have changed since the rule was saved.
            if refused:
                raise ValidationError(refused)
            parameters = response_parameters(response, context)
            # The batch's first immediate run is started by this process after commit: no message.
            here = batch.start_here and not batch.starts and response.trigger == ResponseTrigger.IMMEDIATE
            # No savepoint of our own: action_run_request refuses before it writes, and writes in
            # its own atomic block (a savepoint here), so a refused request leaves the rest standing.
            run = action_run_request(
                action=response.action,
                by=by,
                parameters=parameters,
                incident=incident,
                require_approval=response.trigger == ResponseTrigger.AFTER_APPROVAL,
                due_at=due_at,
                context={"alert": context["alert"]},  # Commands may name alert.* too.
                automated=True,
                enqueue=not here,
            )
        except (TemplateError, ValidationError, ApplicationError) as exc:
            error = _error_text(exc)
            TriggeredRun.objects.create(alert=alert, response=response, trigger=response.trigger, error=error)
            _note(alert, f"{response.action.name}: not requested: {error}")
            if incident is not None:
                batch.events.append(
                    TimelineEntry(
                        incident=incident,
                        kind=EventKind.NOTE,
                        by=by,
                        message=f"Automated response {response.action.name} was not requested: {error}",
                        details={"alert": alert.pk, "response": response.pk},
                    )
                )
                batch.events_flush()
            continue
        TriggeredRun.objects.create(alert=alert, response=response, run=run, trigger=response.trigger)
        if here and run.status == RunStatus.SCHEDULED:  # Not one that waits for an approver.
            batch.starts.append(run)
        _note(alert, f"{response.action.name}: run #{run.pk} {_when(response.trigger, due_at)}.")


def _when(trigger: str, due_at: datetime | None) -> str:
    if trigger == ResponseTrigger.AFTER_APPROVAL:
        return "awaits approval"
    if due_at is not None:
        return f"scheduled for {due_at:%H:%M:%S %Z} unless the alert resolves first"
    return "requested"


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "; ".join(f"{field}: {' '.join(m)}" for field, m in exc.message_dict.items())
        return " ".join(exc.messages)
    return str(exc)


def _process_resolved(alert: Alert, batch: _Batch) -> None:
    by = Actor.system(source=Source.TASK, label="alert-processing")
    for triggered in TriggeredRun.objects.filter(
        alert=alert,
        run__status__in=CANCELLABLE,
        trigger__in=[ResponseTrigger.AFTER_DELAY, ResponseTrigger.AFTER_APPROVAL],
    ).select_related("run__action", "run__incident"):
        run = triggered.run
        try:
            with transaction.atomic():
                action_run_cancel(run=run, by=by)
        except (ApplicationError, PermissionDeniedError) as exc:
            # It started (or was decided) meanwhile: let it finish; the closed loop weighs its result.
            _note(alert, f"Run #{run.pk} could not be cancelled: {exc}")
            continue
        _note(alert, f"Run #{run.pk} ({run.action.name}) cancelled: the alert resolved first.")
    if alert.incident is None:
        if not alert.matches and not alert.notes:
            _note(alert, "Resolved before it was processed as firing: nothing opened.")
        else:
            _note(alert, "Resolved.")
        return
    batch.events.append(
        TimelineEntry(
            incident=alert.incident,
            kind=EventKind.ALERT_RESOLVED,
            by=by,
            message=f"Alert {alert.name or alert.fingerprint} resolved.",
            details={
                **_alert_details(alert),
                "ends_at": alert.ends_at.isoformat() if alert.ends_at else None,
            },
            at=alert.last_received_at,
        )
    )
    batch.closed_loop_checks.append(alert.incident_id)
    _note(alert, f"Resolved; recorded on {alert.incident.reference}.")


def alerts_sweep(*, now: datetime | None = None) -> int:
    """Beat: process alerts the broker never delivered (stored while it was down, or a lost
    message), oldest first. Fresh ones (within the grace period) probably have their task on the
    way, so they are not processed here but sent one more message: a duplicate does nothing, and
    alerts stored just before the broker came back need not wait for the next sweep. Alerts marked
    failed are left alone."""
    cutoff = (now or timezone.now()) - SWEEP_GRACE
    pending = Alert.objects.filter(processed=False, processing_failed_at__isnull=True)
    fresh = list(
        pending.filter(last_received_at__gt=cutoff)
        .order_by("last_received_at", "id")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    processing_enqueue(fresh)
    ids = list(
        pending.filter(last_received_at__lte=cutoff)
        .order_by("last_received_at", "id")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    return alerts_process(alert_ids=ids)


def alert_incident_create(
    *,
    alert: Alert,
    by: Actor,
    title: str | None = None,
    description: str | None = None,
    priority: Priority | None = None,
    assignee: AbstractBaseUser | None = None,
) -> Incident:
    """A person opens an incident from an alert no incident holds yet (the admin's form and action):
    what the alert gives (alerts.incident_prefill), with the title, description, priority and
    assignee they changed. An alert already in an incident is refused (ConflictError)."""
    by.require(ADD_PERMISSION, "open incidents")
    with transaction.atomic():
        locked = (
            Alert.objects.select_for_update(of=("self",))
            .select_related("source", "incident")
            .get(pk=alert.pk)
        )
        if locked.incident is not None:
            raise ConflictError(f"Alert {locked.pk} already belongs to {locked.incident.reference}.")
        plan = alert_plan_for(locked)
        prefill = alert_incident_prefill(alert=locked, plan=plan)
        incident = _incident_open(
            locked, plan, by, title=title, description=description, priority=priority, assignee=assignee
        )
        # What the person changed from what the alert gave, so the record shows their judgement.
        changed = sorted(
            field
            for field, given, kept in (
                ("title", title, prefill.title),
                ("description", description, prefill.description),
                ("priority", priority, prefill.priority),
            )
            if given is not None and given != kept
        )
        # A person opened it, so the closed loop leaves it alone (opened_incident stays False).
        locked.incident = incident
        _note(locked, f"{by} opened {incident.reference} from this alert.")
        locked.save()
        incident_repeat_mark(incident=incident)
        timeline_event_record(
            incident=incident,
            kind=EventKind.ALERT_ATTACHED,
            by=by,
            message=f"{by} opened this incident from alert {locked.name or locked.fingerprint}.",
            details={**_alert_details(locked), "opened_by": str(by), "changed_from_alert": changed},
        )
    return incident
