"""The analytics benchmark's data: generate_history's planner draws the rows and PostgreSQL COPY
stores them. Imported by bench/analytics.py once Django is set up."""

import json
import time
from datetime import datetime
from datetime import time as clock

from django.db import connection, transaction
from django.utils import timezone

from actions.models import ActionRun
from alerts.models import Alert
from common.actor import Source
from demo.history import MARKER, catalog_ensure, history_plan
from incidents.models import Incident, IncidentSequence
from postmortems.models import ActionItem, Postmortem

CHUNK = 100_000
ALERT_SHARE = 4  # alerts for one incident in four


INCIDENT_COLUMNS = [
    "reference", "title", "description", "priority_id", "assignee_id", "commander_id", "status", "phase",
    "root_cause_category", "users_affected", "services_down", "data_at_risk", "security_issue", "is_drill",
    "started_at", "detected_at", "acknowledged_at", "resolved_at", "closed_at", "resolution_summary",
    "dismissal_reason", "reopen_count", "auto_resolved", "is_repeat", "response_due_at", "resolution_due_at",
    "response_breached_at", "resolution_breached_at", "created_at", "updated_at", "peak_priority",
    "bridge_url",
]  # fmt: skip
ALERT_COLUMNS = [
    "source_id", "fingerprint", "name", "status", "severity", "labels", "annotations", "starts_at", "ends_at",
    "received_at", "last_received_at", "occurrence_count", "generator_url", "extra", "service_id",
    "incident_id", "processed", "processed_at", "matches", "group_key", "opened_incident", "notes",
    "created_at", "updated_at", "processing_attempts", "processing_error", "replays",
]  # fmt: skip
RUN_COLUMNS = [
    "action_id", "parameters", "incident_id", "requested_by_id", "requested_via", "requested_label",
    "require_approval", "status", "decision_comment", "task_id", "started_at", "finished_at", "error",
    "created_at", "updated_at", "snapshot", "automated", "context",
]  # fmt: skip
POSTMORTEM_COLUMNS = [
    "id", "incident_id", "status", "severity", "executive_summary", "users_affected", "data_loss",
    "data_loss_details", "failed_transactions", "financial_impact", "detection", "root_cause", "five_whys",
    "contributing_factors", "resolution", "what_went_well", "what_could_be_improved", "lessons_learned",
    "supporting_links", "review_sequence", "submitted_at", "published_at", "published_to", "created_at",
    "updated_at", "publication_email", "publication_error", "review_invitation_error",
]  # fmt: skip
ITEM_COLUMNS = [
    "postmortem_id", "description", "kind", "owner_id", "due_date", "status", "wont_do_reason",
    "completed_at", "follow_up_url", "created_at", "updated_at",
]  # fmt: skip


def next_id(model) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {model._meta.db_table}")
        return cursor.fetchone()[0]


def copy_rows(table: str, columns: list[str], rows) -> None:
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def load(incidents: int) -> None:
    """Plans from generate_history's planner, stored with COPY in chunks of CHUNK incidents."""
    started = time.perf_counter()
    catalog = catalog_ensure()
    end = timezone.make_aware(datetime.combine(timezone.localdate(), clock.min))
    plans = history_plan(catalog=catalog, incidents=incidents, months=12, end=end, seed=1)
    service_ids = {slug: s.pk for slug, s in catalog.services.items()}
    priority_ids = {code: p.pk for code, p in catalog.priorities.items()}
    action_ids = {key: a.pk for key, a in catalog.actions.items()}
    user_ids = [u.pk for u in catalog.users]
    numbers = dict(IncidentSequence.objects.values_list("year", "last_number"))
    incident_id = next_id(Incident)
    postmortem_id = next_id(Postmortem)
    through = Incident.services.through._meta.db_table
    impacted = Postmortem.services_impacted.through._meta.db_table
    counts = dict.fromkeys(["incidents", "alerts", "runs", "postmortems", "items"], 0)
    chunk: list = []

    def flush() -> None:
        nonlocal incident_id, postmortem_id
        first = incident_id
        rows, links, alerts, runs, pms, pm_links, items = [], [], [], [], [], [], []
        for index, plan in enumerate(chunk):
            pk = first + index
            year = timezone.localtime(plan.detected_at).year
            numbers[year] = numbers.get(year, 0) + 1
            assignee = user_ids[plan.assignee] if plan.assignee is not None else None
            last = plan.closed_at or plan.resolved_at or plan.detected_at
            rows.append((
                pk, f"INC-{year}-{numbers[year]:04d}", plan.title[:200], MARKER, priority_ids[plan.priority],
                assignee, assignee if plan.priority in ("P1", "P2") else None, plan.status, "",
                plan.root_cause, plan.users_affected, 0, False, False, plan.is_drill, plan.started_at,
                plan.detected_at, plan.acknowledged_at, plan.resolved_at, plan.closed_at, "",
                plan.dismissal_reason, plan.reopen_count, plan.auto_resolved, False, plan.response_due_at,
                plan.resolution_due_at, plan.response_breached_at, plan.resolution_breached_at,
                plan.detected_at, last, "", "",
            ))  # fmt: skip
            links.extend((pk, service_ids[slug]) for slug in plan.services)
            if index % ALERT_SHARE == 0:
                slug = plan.services[0]
                for a in plan.alerts:
                    labels = json.dumps({"alertname": a.name, "service": slug, "severity": a.severity})
                    alerts.append((
                        catalog.source.pk, a.fingerprint, a.name, "resolved", a.severity, labels, "{}",
                        a.starts_at, a.ends_at, a.received_at, a.ends_at, 1, "", "{}", service_ids[slug], pk,
                        True, a.received_at, "[]", "", a.opened_incident, "[]", a.received_at, a.ends_at,
                        1, "", 0,
                    ))  # fmt: skip
            for r in plan.runs:
                runs.append((
                    action_ids[r.action], "{}", pk, None if r.automated else assignee,
                    Source.TASK if r.automated else Source.ADMIN, "auto-remediation" if r.automated else "",
                    False, r.status, "", "", r.started_at, r.finished_at, r.error, r.started_at,
                    r.finished_at, "[]", r.automated, "{}",
                ))  # fmt: skip
            pm = plan.postmortem
            if pm is not None:
                pms.append((
                    postmortem_id, pk, pm.status, plan.priority, plan.title, "", False, "", "", "", "",
                    pm.root_cause, "[]", "", "", "", "", "", "[]", 0, pm.submitted_at, pm.published_at, "[]",
                    pm.created_at, pm.published_at or pm.submitted_at or pm.created_at, "", "", "",
                ))  # fmt: skip
                pm_links.extend((postmortem_id, service_ids[slug]) for slug in plan.services)
                for item in pm.items:
                    items.append((
                        postmortem_id, item.description, item.kind, user_ids[item.owner], item.due_date,
                        item.status, item.wont_do_reason, item.completed_at, "", item.created_at,
                        item.completed_at or item.created_at,
                    ))  # fmt: skip
                postmortem_id += 1
        with transaction.atomic():
            copy_rows(Incident._meta.db_table, ["id", *INCIDENT_COLUMNS], rows)
            copy_rows(through, ["incident_id", "service_id"], links)
            copy_rows(Alert._meta.db_table, ALERT_COLUMNS, alerts)
            copy_rows(ActionRun._meta.db_table, RUN_COLUMNS, runs)
            copy_rows(Postmortem._meta.db_table, POSTMORTEM_COLUMNS, pms)
            copy_rows(impacted, ["postmortem_id", "service_id"], pm_links)
            copy_rows(ActionItem._meta.db_table, ITEM_COLUMNS, items)
        incident_id += len(chunk)
        for key, value in (("incidents", rows), ("alerts", alerts), ("runs", runs), ("postmortems", pms)):
            counts[key] += len(value)
        counts["items"] += len(items)
        chunk.clear()
        print(f"  {counts['incidents']:>9,} incidents  {time.perf_counter() - started:6.0f} s", flush=True)

    for plan in plans:
        chunk.append(plan)
        if len(chunk) >= CHUNK:
            flush()
    if chunk:
        flush()
    with transaction.atomic(), connection.cursor() as cursor:
        for year, last in numbers.items():
            IncidentSequence.objects.update_or_create(year=year, defaults={"last_number": last})
        for model in (Incident, Postmortem):
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            )
    with transaction.atomic(), connection.cursor() as cursor:
        # No timeline events here to compute costs from (analytics.cost): a stand-in cost per
        # incident, two people from detection to resolution at 100/h, so the cost aggregates run
        # over a full analytics_incidentcost table as they would in production.
        cursor.execute(
            "INSERT INTO analytics_incidentcost (incident_id, responders, responder_seconds, "
            "meeting_seconds, team, rate, amount, open, computed_at) "
            "SELECT id, 2, COALESCE(EXTRACT(EPOCH FROM resolved_at - detected_at)::bigint * 2, 0), 0, '', "
            "100, ROUND(COALESCE(EXTRACT(EPOCH FROM resolved_at - detected_at) * 2 / 36, 0)::numeric, 2), "
            "resolved_at IS NULL, NOW() FROM incidents_incident ON CONFLICT DO NOTHING"
        )
        cursor.execute(
            "INSERT INTO analytics_incidentcostgroup (cost_id, kind, key) "
            "SELECT DISTINCT t.incident_id, 'team', s.owner_team FROM incidents_incident_services t "
            "JOIN incidents_service s ON s.id = t.service_id UNION "
            "SELECT DISTINCT t.incident_id, 'service_type', s.type FROM incidents_incident_services t "
            "JOIN incidents_service s ON s.id = t.service_id ON CONFLICT DO NOTHING"
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"Loaded {counts['incidents']:,} incidents, {counts['alerts']:,} alerts, {counts['runs']:,} runs, "
        f"{counts['postmortems']:,} post-mortems, {counts['items']:,} action items "
        f"in {time.perf_counter() - started:.0f} s"
    )
