"""Reads for alert rules and silences: which rules an alert matches (and why), whether a silence
covers it, and the whole plan for an alert. No side effects, so the rule tester can call them too."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import InterfaceError, OperationalError, connection
from django.db.models import BooleanField, ExpressionWrapper, Prefetch, Q, QuerySet
from django.utils import timezone

from actions.models import ActionStep
from actions.services.snapshot import SNAPSHOT_STEP_RELATED
from alerts.choices import AlertStatus, IncidentPolicy
from alerts.matching import group_key, labels_match, priority_code_for
from alerts.models import Alert, AlertRule, AlertSource, AutomatedResponse, Silence, TriggeredRun
from alerts.parsers import parse
from alerts.response_parameters import TemplateError, alert_context, response_parameters
from alerts.sql_rows import columns_sql, models_from_rows, models_with_related, related_select
from common.db_health import health_check_take_over
from incidents.choices import OPEN_STATUSES
from incidents.models import Incident, Service


@dataclass(frozen=True)
class RuleMatch:
    """A rule an alert matched, with one line per check saying why."""

    rule: AlertRule
    reasons: list[str] = field(default_factory=list)


def _rule_match(rule: AlertRule, alert_name: str, severity: str, labels: Mapping[str, Any]):
    reasons: list[str] = []
    ok = True
    if rule.alert_name:
        hit = rule.alert_name == alert_name
        ok = ok and hit
        reasons.append(f"alert name is {rule.alert_name}: {'yes' if hit else 'no'}")
    if rule.severity:
        hit = rule.severity == severity
        ok = ok and hit
        reasons.append(f"severity is {rule.severity}: {'yes' if hit else 'no'}")
    matched, why = labels_match(rule.matchers, labels)
    return ok and matched, reasons + why


RULE_RELATED = ("service", "priority")


def _enabled_rules() -> list[AlertRule]:
    """The enabled rules in matching order, with their service and priority, each annotated
    `has_responses` (an enabled one: matches of rules without spare their query). One hand-written
    SELECT, made into the objects the queryset gave (alerts.sql_rows): processing reads them on
    every batch, and compiling the queryset was a third of it."""
    columns, joins = related_select(AlertRule, RULE_RELATED, "t")
    responses = AutomatedResponse._meta.db_table
    sql = (
        f'SELECT {columns}, EXISTS (SELECT 1 FROM "{responses}" x WHERE x."rule_id" = t."id" '
        f'AND x."enabled") FROM "{AlertRule._meta.db_table}" t {joins} '
        f'WHERE t."enabled" ORDER BY t."order", t."id"'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    rules = models_with_related(AlertRule, RULE_RELATED, rows)
    for rule, row in zip(rules, rows, strict=True):
        rule.has_responses = bool(row[-1])
    return rules


def _silences_between(first: datetime, last: datetime) -> list[Silence]:
    """Silences active at some time from `first` to `last`, the earliest-created first: one
    hand-written SELECT (see _enabled_rules)."""
    sql = (
        f'SELECT {columns_sql(Silence)} FROM "{Silence._meta.db_table}" '
        'WHERE "starts_at" <= %s AND "ends_at" > %s ORDER BY "created_at", "id"'
    )
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(sql, [adapt(last), adapt(first)])
        return models_from_rows(Silence, cursor.fetchall())


def _rules_walk(
    rules: list[AlertRule], alert_name: str, severity: str, labels: Mapping[str, Any]
) -> list[RuleMatch]:
    matches: list[RuleMatch] = []
    for rule in rules:
        ok, reasons = _rule_match(rule, alert_name, severity, labels)
        if not ok:
            continue
        matches.append(RuleMatch(rule=rule, reasons=reasons))
        if not rule.continue_matching:
            break
    return matches


def rules_matching(*, alert_name: str, severity: str, labels: Mapping[str, Any]) -> list[RuleMatch]:
    """The enabled rules this alert matches, in rule order: the first match ends the walk unless
    that rule says `continue_matching`."""
    return _rules_walk(_enabled_rules(), alert_name, severity, labels)


def _silence_covering(silences: list[Silence], labels: Mapping[str, Any], at: datetime) -> Silence | None:
    for silence in silences:
        if not silence.matchers or not silence.starts_at <= at < silence.ends_at:
            continue
        ok, _ = labels_match(silence.matchers, labels)
        if ok:
            return silence
    return None


def silence_active(*, labels: Mapping[str, Any], at: datetime) -> Silence | None:
    """A silence active at `at` (starts_at <= at < ends_at) whose matchers all hold for these labels,
    the earliest-created first; None if nothing silences them. A silence without matchers never
    silences anything."""
    candidates = Silence.objects.filter(starts_at__lte=at, ends_at__gt=at).order_by("created_at", "id")
    return _silence_covering(list(candidates), labels, at)


@dataclass
class AlertPlan:
    """What processing would do with a firing alert, worked out without writing anything: the rule
    tester shows it, the processing service carries it out."""

    silence: Silence | None
    matches: list[RuleMatch]
    # The first matched rule whose policy opens or joins incidents; it decides the incident.
    rule: AlertRule | None
    service: Service | None
    priority_code: str
    policy: str
    group_key: str
    responses: list[AutomatedResponse]

    def matches_record(self) -> list[dict[str, Any]]:
        return [{"rule": m.rule.pk, "name": m.rule.name, "reasons": m.reasons} for m in self.matches]


def _plan(
    silence: Silence | None,
    matches: list[RuleMatch],
    severity: str,
    labels: Mapping[str, Any],
    service: Service | None,
    responses_by_rule: dict[int, list[AutomatedResponse]],
) -> AlertPlan:
    primary = next((m.rule for m in matches if m.rule.incident_policy != IncidentPolicy.NONE), None)
    for match in matches:
        if match.rule.service is not None:
            service = match.rule.service
            break
    priority_code = priority_code_for(severity)
    if primary is not None and primary.priority is not None:
        priority_code = primary.priority.code
    return AlertPlan(
        silence=silence,
        matches=matches,
        rule=primary,
        service=service,
        priority_code=priority_code,
        policy=primary.incident_policy if primary else IncidentPolicy.NONE,
        group_key=group_key(primary.group_by, labels) if primary else "",
        responses=[r for m in matches for r in responses_by_rule.get(m.rule.pk, [])],
    )


def _responses_by_rule(rules: set[AlertRule]) -> dict[int, list[AutomatedResponse]]:
    """The enabled responses of these rules, in order; no query when none of them has any (their
    `has_responses`, from _enabled_rules; a rule without it is asked)."""
    by_rule: dict[int, list[AutomatedResponse]] = {}
    rules = {rule for rule in rules if getattr(rule, "has_responses", True)}
    if rules:
        loaded = {rule.pk: rule for rule in rules}
        for response in (
            AutomatedResponse.objects.filter(rule__in=rules, enabled=True)
            .select_related("action")
            # Checked against the alert's values before a request, and the request's snapshot.
            .prefetch_related(
                Prefetch("action__steps", ActionStep.objects.select_related(*SNAPSHOT_STEP_RELATED))
            )
            .order_by("order", "id")
        ):
            response.rule = loaded[response.rule_id]  # Its rule is at hand: no query to load it again.
            by_rule.setdefault(response.rule_id, []).append(response)
    return by_rule


def alert_plan(
    *, alert_name: str, severity: str, labels: Mapping[str, Any], at: datetime, service: Service | None
) -> AlertPlan:
    """The silence, rule matches, service, priority, incident policy and responses for an alert
    with these fields, received at `at`, whose source's default service is `service`."""
    silence = silence_active(labels=labels, at=at)
    matches = [] if silence else rules_matching(alert_name=alert_name, severity=severity, labels=labels)
    responses = _responses_by_rule({m.rule for m in matches})
    return _plan(silence, matches, severity, labels, service, responses)


def alert_plans(alerts: list[Alert]) -> list[AlertPlan]:
    """`alert_plan` of each alert (by its name, severity, labels, received_at and service), for a
    batch in three queries whatever its size: the silences active over the batch's span, the
    enabled rules, and the matched rules' responses. Same answers as one at a time."""
    if not alerts:
        return []
    first = min(alert.received_at for alert in alerts)
    last = max(alert.received_at for alert in alerts)
    silences = _silences_between(first, last)
    rules = _enabled_rules()
    found = []
    for alert in alerts:
        silence = _silence_covering(silences, alert.labels, alert.received_at)
        matches = [] if silence else _rules_walk(rules, alert.name, alert.severity, alert.labels)
        found.append((alert, silence, matches))
    responses = _responses_by_rule({m.rule for _, _, matches in found for m in matches})
    return [
        _plan(silence, matches, alert.severity, alert.labels, alert.service, responses)
        for alert, silence, matches in found
    ]


# The distinct incidents of a group, by a loose index scan of alerts_alert_group_incident (rule, group_key,
# incident): one index probe per incident the group has had, instead of reading every alert it
# holds (a storm's group holds tens of thousands of alerts in a few incidents, and reading them
# took 45 ms per batch at 27,000). Each step is ORDER BY ... LIMIT 1, so it stops at the first
# entry whatever the statistics say. WITH RECURSIVE: PostgreSQL and SQLite alike.
GROUP_INCIDENTS_SQL = """
WITH RECURSIVE seen(incident_id) AS (
    SELECT (SELECT incident_id FROM alerts_alert WHERE rule_id = %s AND group_key = %s
            AND incident_id IS NOT NULL ORDER BY incident_id LIMIT 1)
    UNION ALL
    SELECT (SELECT a.incident_id FROM alerts_alert a WHERE a.rule_id = %s AND a.group_key = %s
            AND a.incident_id > seen.incident_id ORDER BY a.incident_id LIMIT 1)
    FROM seen WHERE seen.incident_id IS NOT NULL
)
SELECT incident_id FROM seen WHERE incident_id IS NOT NULL
"""


def incident_open_for_group(*, rule: AlertRule, key: str, is_drill: bool = False) -> Incident | None:
    """The most recently detected open incident an alert of this rule and group key joined; only
    drill incidents for a drill alert, never one for a real alert (a drill must not swallow a real
    alert, nor a real incident a drill's). The group's incidents are found first (GROUP_INCIDENTS_SQL),
    then the open ones among them. Annotated `has_services`: without one it cannot be a repeat
    (incidents.services.repeats), which spares the joins their repeat check."""
    group = GROUP_INCIDENTS_SQL
    if connection.vendor == "postgresql":
        # Evaluated once, first (an InitPlan), then probed by primary key: as a plain IN, with many
        # open incidents and stale statistics, the planner read every open incident (24 ms, 0.25).
        group = f"SELECT unnest(ARRAY({group}))"
    # Hand-written, as the queryset it stands for (the open incidents among the group's, by the
    # latest detection, annotated has_services) took longer to build and compile than to run: a
    # third of a join batch (py-spy).
    statuses = list(OPEN_STATUSES)
    services = Incident.services.through._meta.db_table
    sql = (
        f'SELECT {columns_sql(Incident, "i")}, EXISTS (SELECT 1 FROM "{services}" s '
        f'WHERE s."incident_id" = i."id") FROM "{Incident._meta.db_table}" i WHERE i."id" IN ({group}) '
        f'AND i."status" IN ({", ".join(["%s"] * len(statuses))}) AND i."is_drill" = %s '
        'ORDER BY i."detected_at" DESC, i."id" DESC LIMIT 1'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [rule.pk, key, rule.pk, key, *statuses, is_drill])
        row = cursor.fetchone()
    if row is None:
        return None
    (incident,) = models_from_rows(Incident, [row[:-1]])
    incident.has_services = bool(row[-1])
    return incident


@dataclass
class ResponsePreview:
    action: str
    trigger: str
    delay_seconds: int
    parameters: dict[str, str] | None
    error: str = ""


@dataclass
class AlertPreview:
    """The rule tester's answer for one alert of a payload: what processing would do."""

    name: str
    status: str
    severity: str
    fingerprint: str
    labels: dict[str, str]
    existing_alert: int | None
    silence: Silence | None
    matches: list[RuleMatch]
    outcome: str
    responses: list[ResponsePreview]


def rules_preview(
    *, kind: str, raw: Any, source: AlertSource | None = None, at: datetime | None = None
) -> list[AlertPreview]:
    """Run a payload through the parser, silences and rules without storing or triggering
    anything. Raises PayloadError (with the parser's message) for a payload that would get a 400."""
    at = at or timezone.now()
    payload = parse(kind, raw)
    previews = []
    for parsed in payload.alerts:
        existing = None
        if source is not None:
            existing = (
                Alert.objects.filter(source=source, fingerprint=parsed.fingerprint, status=AlertStatus.FIRING)
                .values_list("pk", flat=True)
                .first()
            )
        plan = alert_plan(
            alert_name=parsed.name,
            severity=parsed.severity,
            labels=parsed.labels,
            at=at,
            service=source.default_service if source else None,
        )
        responses: list[ResponsePreview] = []
        if parsed.status == AlertStatus.RESOLVED:
            outcome = "Resolves the open alert." if existing else "Resolved: nothing would be opened."
        elif existing:
            outcome = f"Repeats open alert #{existing}: its count goes up, nothing new is opened."
        elif plan.silence is not None:
            outcome = f"Silenced by silence #{plan.silence.pk} ({plan.silence.reason}): nothing triggered."
        elif not plan.matches:
            outcome = "No rule matches: the alert would only be stored."
        else:
            outcome = _incident_outcome(plan)
            stand_in = Alert(
                source=source or AlertSource(slug="preview"),
                name=parsed.name,
                status=parsed.status,
                severity=parsed.severity,
                fingerprint=parsed.fingerprint,
                labels=parsed.labels,
                annotations=parsed.annotations,
                starts_at=parsed.starts_at,
                generator_url=parsed.generator_url,
            )
            context = alert_context(stand_in)
            context["incident"] = {"id": "", "reference": "(new incident)", "title": ""}
            for response in plan.responses:
                try:
                    parameters, error = response_parameters(response, context), ""
                except TemplateError as exc:
                    parameters, error = None, str(exc)
                responses.append(
                    ResponsePreview(
                        action=response.action.name,
                        trigger=response.trigger,
                        delay_seconds=response.delay_seconds,
                        parameters=parameters,
                        error=error,
                    )
                )
        previews.append(
            AlertPreview(
                name=parsed.name,
                status=parsed.status,
                severity=parsed.severity,
                fingerprint=parsed.fingerprint,
                labels=parsed.labels,
                existing_alert=existing,
                silence=plan.silence,
                matches=plan.matches,
                outcome=outcome,
                responses=responses,
            )
        )
    return previews


def _incident_outcome(plan: AlertPlan) -> str:
    if plan.policy == IncidentPolicy.NONE or plan.rule is None:
        return "Matched, but no rule opens an incident."
    where = f" on {plan.service.name}" if plan.service else ""
    if plan.policy == IncidentPolicy.ATTACH:
        incident = incident_open_for_group(rule=plan.rule, key=plan.group_key)
        if incident is not None:
            return f"Joins {incident.reference} (open for group {plan.group_key})."
    return f"Opens a {plan.priority_code} incident{where} ({plan.rule.name})."


# --- Lists, with what the API shows of each row loaded in a fixed number of queries ---------------


def alert_source_list() -> QuerySet[AlertSource]:
    """Sources with whether an HMAC secret is set, computed in the database: the list never
    decrypts, or even loads, a secret."""
    secret_set = ExpressionWrapper(~Q(hmac_secret=""), output_field=BooleanField())
    return (
        AlertSource.objects.select_related("default_service")
        .annotate(hmac_secret_set=secret_set)
        .defer("hmac_secret")
        .order_by("name", "id")
    )


def alert_list() -> QuerySet[Alert]:
    """Alerts, most recently received first, with their source, service, incident, rule and
    triggered runs."""
    triggered = TriggeredRun.objects.select_related("run__action", "response__action").order_by(
        "created_at", "id"
    )
    return (
        Alert.objects.select_related("source", "service", "incident", "rule")
        .prefetch_related(Prefetch("triggered_runs", queryset=triggered))
        .order_by("-received_at", "-id")
    )


def alert_rule_list() -> QuerySet[AlertRule]:
    """Rules in matching order with their responses in order."""
    responses = AutomatedResponse.objects.select_related("action").order_by("order", "id")
    return (
        AlertRule.objects.select_related("service", "priority")
        .prefetch_related(Prefetch("responses", queryset=responses))
        .order_by("order", "id")
    )


def silence_list() -> QuerySet[Silence]:
    """Silences, latest start first, with who created them."""
    return Silence.objects.select_related("created_by").order_by("-starts_at", "-id")


# The webhook's sources as last read by this process, by what names them (token hash or slug).
# A hint, never the authority: alerts are stored from a kept source only if its row still has the
# same updated_at (checked by the statement that stores them, alerts.services.ingest), and any other
# answer is decided again on a fresh read (alerts.views). Saves the lookup's round trip on most
# requests. Bounded: emptied when full.
_kept_sources: dict[tuple[str, str], AlertSource] = {}
KEPT_SOURCES_MAX = 1000


def alert_source_kept(*, token_hash: str | None = None, slug: str | None = None) -> AlertSource | None:
    """The source as this process last read it for a webhook request named this way, if it did."""
    return _kept_sources.get(_webhook_key(token_hash, slug))


def _webhook_key(token_hash: str | None, slug: str | None) -> tuple[str, str]:
    return ("token_hash", token_hash) if token_hash is not None else ("slug", slug or "")


def alert_source_for_webhook(*, token_hash: str | None = None, slug: str | None = None) -> AlertSource | None:
    """The source a webhook request names, by its token's hash or by its slug: one hand-written
    SELECT (the webhook runs it on every request; a queryset would be compiled each time). What is
    found is kept for alert_source_kept.

    The lookup is the request's first statement, and a read, so it stands in for Django's health
    check (CONN_HEALTH_CHECKS: a `SELECT 1` round trip before it on every request): a persistent
    connection the server dropped fails the lookup, which is then run once more on a new connection.
    What follows it (the one-statement upsert) runs on a connection it has just shown to work."""
    key = _webhook_key(token_hash, slug)
    column, value = key
    sql = f'SELECT {columns_sql(AlertSource)} FROM {AlertSource._meta.db_table} WHERE "{column}" = %s'
    checking = health_check_take_over()
    try:
        row = _fetch_one(sql, value)
    except (OperationalError, InterfaceError):
        if not checking:
            raise
        connection.close()  # dropped by the server (restart, failover, idle timeout): a new one
        row = _fetch_one(sql, value)
    if row is None:
        return None
    source = models_from_rows(AlertSource, [row])[0]
    if len(_kept_sources) >= KEPT_SOURCES_MAX:
        _kept_sources.clear()
    _kept_sources[key] = source
    return source


def _fetch_one(sql: str, value: str) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, [value])
        return cursor.fetchone()
