"""Synthetic incident history for the analytics dashboard and its benchmark.

`history_plan` draws plain, deterministic plans (a seeded `random.Random`, a fixed end) for
incidents with their alerts, action runs, post-mortems and action items; `history_write` stores them
with `bulk_create` in batches. Both bypass the services on purpose: this is history that already
happened, not state changes to make now, and going through the services (row locks, timeline
writes, Celery hooks, one transaction per step) would take minutes for a year of incidents. The
writer keeps what the services guarantee: timestamps in order, SLA due and breach times from the
priority, auto-resolution only with a succeeded automated run, a closed P1/P2 only with its
post-mortem in review or published, and references numbered through IncidentSequence.

Generated incidents carry MARKER at the start of their description; `history_clear` removes them and
the rows hanging off them, and nothing else.
"""

import hashlib
import math
import random
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import transaction
from django.utils import timezone

from actions.choices import Category, RunStatus
from actions.models import Action, ActionRun
from alerts.choices import AlertStatus, SourceKind
from alerts.models import Alert, AlertSource
from common.actor import Source
from incidents.choices import (
    DismissalReason,
    EventKind,
    IncidentStatus,
    RootCauseCategory,
    ServiceTier,
    ServiceType,
    UsersAffected,
)
from incidents.models import Incident, IncidentSequence, Priority, Service, TimelineEvent
from incidents.services import incident_repeat_mark
from postmortems.choices import POSTMORTEM_PRIORITIES, ActionItemKind, ActionItemStatus, PostmortemStatus
from postmortems.models import ActionItem, Postmortem

MARKER = "Synthetic history (generate_history)."
BATCH_SIZE = 10_000
S = IncidentStatus
R = RootCauseCategory
A = ActionItemStatus
P = PostmortemStatus
RUNBOOKS = "https://runbooks.example.com"
SOURCE_SLUG = "history"

# slug, name, type, owner team, tier, how incident-prone (relative), its dominating root cause.
SERVICES = [
    ("web", "Web storefront", ServiceType.WEB, "Storefront", 1, 1.6, (R.DEPLOYMENT, 0.45)),
    ("payments-api", "Payments API", ServiceType.WEB, "Payments", 1, 1.3, (R.DEPENDENCY, 0.45)),
    ("checkout-worker", "Checkout worker", ServiceType.OTHER, "Payments", 2, 0.7, None),
    (
        "postgres-primary",
        "PostgreSQL primary",
        ServiceType.DATABASE,
        "Data platform",
        1,
        1.0,
        (R.RESOURCE_EXHAUSTION, 0.45),
    ),
    ("redis-cache", "Redis cache", ServiceType.DATABASE, "Platform", 2, 0.8, (R.CAPACITY, 0.4)),
    ("auth-sso", "Auth / SSO", ServiceType.AUTH, "Identity", 1, 0.8, (R.CONFIGURATION_CHANGE, 0.4)),
    ("object-storage", "Object storage", ServiceType.STORAGE, "Storage", 2, 0.6, None),
    ("backup-vault", "Backup vault", ServiceType.STORAGE, "Data platform", 3, 0.3, None),
    ("edge-network", "Edge network", ServiceType.NETWORK, "Network", 1, 0.7, (R.NETWORK, 0.5)),
    ("internal-dns", "Internal DNS", ServiceType.NETWORK, "Platform", 2, 0.4, None),
    ("search", "Search", ServiceType.OTHER, "Discovery", 2, 0.5, None),
    ("data-pipeline", "Data pipeline", ServiceType.OTHER, "Data platform", 3, 0.6, None),
]
BASE_ROOT_CAUSES = {
    R.CONFIGURATION_CHANGE: 0.2,
    R.DEPLOYMENT: 0.2,
    R.RESOURCE_EXHAUSTION: 0.15,
    R.CAPACITY: 0.1,
    R.DEPENDENCY: 0.12,
    R.NETWORK: 0.08,
    R.HARDWARE: 0.05,
    R.SECURITY: 0.03,
    R.UNKNOWN: 0.07,
}
# Alert names are <Target><Check>, as Prometheus rules usually are: (check, title template) per type.
CHECKS = {
    ServiceType.WEB: [
        ("HighLatency", "p99 latency above 2 s on {t}"),
        ("Http5xxRate", "5xx rate above 5% on {t}"),
        ("InstanceDown", "{t} instances down"),
        ("ErrorBudgetBurn", "error budget burning fast on {t}"),
    ],
    ServiceType.DATABASE: [
        ("ReplicationLag", "replication lag over 60 s on {t}"),
        ("DiskAlmostFull", "disk almost full on {t}"),
        ("ConnectionsExhausted", "connection pool exhausted on {t}"),
        ("SlowQueries", "slow queries piling up on {t}"),
    ],
    ServiceType.AUTH: [
        ("LoginErrors", "sign-in errors on {t}"),
        ("TokenLatency", "token issuance slow on {t}"),
        ("IdpUnreachable", "identity provider unreachable via {t}"),
    ],
    ServiceType.STORAGE: [
        ("BucketErrors", "request errors on the {t} bucket"),
        ("VolumeFull", "{t} volume nearly full"),
        ("ReplicationBacklog", "replication backlog on {t}"),
    ],
    ServiceType.NETWORK: [
        ("PacketLoss", "packet loss in {t}"),
        ("DnsFailures", "DNS resolution failures in {t}"),
        ("LoadBalancerUnhealthy", "unhealthy load balancer targets in {t}"),
    ],
    ServiceType.OTHER: [
        ("QueueBacklog", "queue backlog on {t}"),
        ("JobFailures", "job failures on {t}"),
        ("HighMemory", "memory pressure on {t}"),
    ],
}
TARGETS = {
    "web": ["checkout", "cart", "search", "login", "orders", "images"],
    "payments-api": ["charge", "refund", "acquirer-a", "acquirer-b", "wallets"],
    "checkout-worker": ["orders", "emails", "invoices", "stock"],
    "postgres-primary": ["db-1", "db-2", "replica-a", "replica-b"],
    "redis-cache": ["sessions", "carts", "rate-limits"],
    "auth-sso": ["saml", "oidc", "password", "mfa"],
    "object-storage": ["images", "invoices", "exports"],
    "backup-vault": ["nightly", "wal", "snapshots"],
    "edge-network": ["eu-west", "us-east", "ap-south", "pop-3"],
    "internal-dns": ["eu-west", "us-east"],
    "search": ["indexer", "suggest", "query"],
    "data-pipeline": ["ingest", "nightly", "exports", "warehouse"],
}
DEFAULT_TARGETS = ["main", "secondary", "batch"]
PRIORITY_WEIGHTS = {"P1": 3, "P2": 12, "P3": 35, "P4": 40, "P5": 10}
# Action template key, name, category, success rate when a human or a rule tries it. Service
# restart is the flaky one, so the "review that action" recommendation has something to say.
ACTIONS = [
    ("service-restart", "Service restart", Category.RESTART, 0.62),
    ("disk-cleanup", "Disk cleanup", Category.CLEANUP, 0.92),
    ("memory-cleanup", "Memory cleanup", Category.CLEANUP, 0.9),
    ("health-check", "Health check", Category.HEALTH, 0.97),
    ("log-collection", "Log collection", Category.DIAGNOSTICS, 0.99),
]
AUTO_FIXES = {
    ServiceType.WEB: "service-restart",
    ServiceType.DATABASE: "disk-cleanup",
    ServiceType.AUTH: "service-restart",
    ServiceType.STORAGE: "disk-cleanup",
    ServiceType.NETWORK: "service-restart",
    ServiceType.OTHER: "memory-cleanup",
}
AUTO_RATE = {
    ServiceType.WEB: 0.14,
    ServiceType.DATABASE: 0.16,
    ServiceType.AUTH: 0.06,
    ServiceType.STORAGE: 0.22,
    ServiceType.NETWORK: 0.05,
    ServiceType.OTHER: 0.18,
}
RESPONDERS = [
    ("sre-dana", "Dana"),
    ("sre-erik", "Erik"),
    ("sre-fatima", "Fatima"),
    ("sre-goran", "Goran"),
    ("sre-hana", "Hana"),
    ("sre-ivo", "Ivo"),
]
ROOT_CAUSE_TEXT = {
    R.CONFIGURATION_CHANGE: "A configuration change rolled out to every instance at once, without a canary.",
    R.DEPLOYMENT: "A release shipped a regression that the staging tests did not cover.",
    R.RESOURCE_EXHAUSTION: "A resource ran out (disk, memory, connections) after growth nobody watched.",
    R.CAPACITY: "Traffic outgrew the provisioned capacity during a peak.",
    R.DEPENDENCY: "An upstream dependency degraded and our timeouts let it take us down with it.",
    R.NETWORK: "Packet loss between zones after a provider's maintenance.",
    R.HARDWARE: "A failing disk on one host slowed the whole pool.",
    R.SECURITY: "A credential was rotated by the provider before ours was updated.",
    R.UNKNOWN: "The cause was not found; the symptoms stopped after a restart.",
}
ITEM_TEXT = {
    ActionItemKind.MONITORING: "Alert on the leading signal, before customers notice",
    ActionItemKind.RUNBOOK: "Write the runbook section for this failure mode",
    ActionItemKind.AUTOMATION: "Automate the manual fix used during the incident",
    ActionItemKind.CONFIGURATION: "Add a guard rail to the configuration that allowed this",
    ActionItemKind.PROCESS: "Add a canary stage to the rollout process",
    ActionItemKind.TRAINING: "Walk the on-call rotation through this incident",
}


@dataclass(slots=True)
class AlertPlan:
    name: str
    fingerprint: str
    severity: str
    starts_at: datetime
    received_at: datetime
    ends_at: datetime
    opened_incident: bool


@dataclass(slots=True)
class RunPlan:
    action: str  # template key, see ACTIONS
    status: str
    started_at: datetime
    finished_at: datetime
    automated: bool
    error: str = ""


@dataclass(slots=True)
class ItemPlan:
    kind: str
    description: str
    owner: int  # index into the responders
    due_date: date
    status: str
    created_at: datetime
    completed_at: datetime | None = None
    wont_do_reason: str = ""


@dataclass(slots=True)
class PostmortemPlan:
    status: str
    created_at: datetime
    submitted_at: datetime | None
    published_at: datetime | None
    root_cause: str
    items: list[ItemPlan] = field(default_factory=list)


@dataclass(slots=True)
class IncidentPlan:
    title: str
    priority: str
    services: list[str]
    alert_name: str
    root_cause: str
    status: str
    started_at: datetime
    detected_at: datetime
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    first_resolved_at: datetime | None = None  # before a reopen
    reopened_at: datetime | None = None
    is_drill: bool = False
    auto_resolved: bool = False
    reopen_count: int = 0
    dismissal_reason: str = ""
    response_due_at: datetime | None = None
    resolution_due_at: datetime | None = None
    response_breached_at: datetime | None = None
    resolution_breached_at: datetime | None = None
    assignee: int | None = None
    users_affected: str = ""
    alerts: list[AlertPlan] = field(default_factory=list)
    runs: list[RunPlan] = field(default_factory=list)
    postmortem: PostmortemPlan | None = None


@dataclass
class Catalog:
    """The rows that history points at: services, priorities, actions, responders, an alert source."""

    services: dict[str, Service]
    priorities: dict[str, Priority]
    actions: dict[str, Action]
    users: list
    source: AlertSource


def catalog_ensure() -> Catalog:
    """Top up what the history needs, leaving existing rows as they are: the services above (by
    slug), responders without a password or an email address (so reminder emails skip them), one
    disabled alert source, and a disabled stand-in for each action that does not exist yet."""
    services = {s.slug: s for s in Service.objects.all()}
    for slug, name, kind, team, tier, _, _ in SERVICES:
        if slug not in services:
            if Service.objects.filter(name=name).exists():
                name = f"{name} ({slug})"
            services[slug] = Service.objects.create(
                slug=slug,
                name=name,
                type=kind,
                owner_team=team,
                tier=ServiceTier(tier),
                runbook_url=f"{RUNBOOKS}/{slug}",
                description="Added by generate_history.",
            )
    user_model = get_user_model()
    users = []
    for username, first_name in RESPONDERS:
        user, created = user_model.objects.get_or_create(
            username=username, defaults={"first_name": first_name, "last_name": "(history)"}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        users.append(user)
    actions = {}
    for key, name, category, _ in ACTIONS:
        action = Action.objects.filter(template_key=key).order_by("id").first()
        if action is None:
            action, _ = Action.objects.get_or_create(
                name=f"{name} (history)",
                defaults={
                    "category": category,
                    "enabled": False,
                    "description": "Stands in for the runs of generate_history; it has no steps.",
                },
            )
        actions[key] = action
    source = AlertSource.objects.filter(slug=SOURCE_SLUG).first()
    if source is None:
        # Nobody knows this token: the source exists only to own the historical alerts.
        source = AlertSource.objects.create(
            name="History (generated)",
            slug=SOURCE_SLUG,
            kind=SourceKind.GENERIC,
            token_hash=hashlib.sha256(secrets.token_bytes(32)).hexdigest(),
            token_prefix="history",
            enabled=False,
        )
    priorities = {p.code: p for p in Priority.objects.all()}
    return Catalog(services=services, priorities=priorities, actions=actions, users=users, source=source)


def _weighted(rng: random.Random, weights: dict) -> object:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _lognormal_minutes(rng: random.Random, median: float, sigma: float) -> timedelta:
    return timedelta(minutes=median * math.exp(rng.gauss(0.0, sigma)))


# Relative incident rate by hour of day (local time) and day of week (Monday first): deploys and
# traffic both happen in business hours.
HOUR_WEIGHTS = [0.3] * 7 + [0.6, 1.0, 1.5, 1.8, 1.7, 1.3, 1.5, 1.8, 1.7, 1.4, 1.1, 0.8, 0.6, 0.5, 0.4]
HOUR_WEIGHTS += [0.35, 0.3]
DAY_WEIGHTS = [1.0, 1.05, 1.0, 1.0, 0.9, 0.4, 0.35]


def history_plan(
    *, catalog: Catalog, incidents: int, months: int, end: datetime, seed: int | None = None
) -> Iterator[IncidentPlan]:
    """Plans for `incidents` incidents detected over the `months` months before `end`, oldest first.
    The same seed, catalog and end give the same plans."""
    rng = random.Random(seed)
    tz = timezone.get_current_timezone()
    end = end.astimezone(tz)
    days = max(1, round(months * 30.44))
    first_day = (end - timedelta(days=days)).date()

    # Detection times: a day by weekday weight, an hour by business-hours weight, a minute at random.
    day_list = [first_day + timedelta(days=i) for i in range(days)]
    day_cum = list(_cumulative(DAY_WEIGHTS[d.weekday()] for d in day_list))
    hour_cum = list(_cumulative(HOUR_WEIGHTS))
    picked_days = rng.choices(day_list, cum_weights=day_cum, k=incidents)
    picked_hours = rng.choices(range(24), cum_weights=hour_cum, k=incidents)
    stamps = []
    for day, hour in zip(picked_days, picked_hours, strict=True):
        at = datetime(day.year, day.month, day.day, hour, tzinfo=tz) + timedelta(seconds=rng.randrange(3600))
        stamps.append(min(at, end - timedelta(minutes=30)))
    stamps.sort()

    specs = [s for s in SERVICES if s[0] in catalog.services]
    service_slugs = [s[0] for s in specs]
    service_weights = [s[5] for s in specs]
    types = {s[0]: catalog.services[s[0]].type for s in specs}
    root_causes = {}
    for slug, *_, dominant in specs:
        weights = dict(BASE_ROOT_CAUSES)
        if dominant:
            cause, share = dominant
            weights = {k: v * (1 - share) for k, v in weights.items()}
            weights[cause] += share
        root_causes[slug] = weights
    alert_names = {}
    for slug in service_slugs:
        targets = TARGETS.get(slug, DEFAULT_TARGETS)
        alert_names[slug] = [
            (_camel(target) + check, template.format(t=target))
            for check, template in CHECKS[types[slug]]
            for target in targets
        ]
    targets_of = {code: (p.response_target, p.resolution_target) for code, p in catalog.priorities.items()}
    codes = [c for c in PRIORITY_WEIGHTS if c in catalog.priorities]
    span = (end - stamps[0]).total_seconds() if stamps else 1.0
    last_seen: dict[str, tuple[datetime, str, str, str]] = {}  # service -> (when, name, title, cause)
    responders = len(catalog.users)
    action_rates = {key: rate for key, _, _, rate in ACTIONS}

    for detected_at in stamps:
        progress = 1.0 - (end - detected_at).total_seconds() / span  # 0 oldest .. 1 newest
        # The team gets faster: 1.3x the typical times a year ago, 0.7x lately.
        speed = 1.3 - 0.6 * progress
        night = detected_at.hour < 8 or detected_at.hour >= 20 or detected_at.weekday() >= 5
        slug = rng.choices(service_slugs, weights=service_weights)[0]
        kind = types[slug]
        services = [slug]
        if rng.random() < 0.1:
            other = rng.choice(service_slugs)
            if other != slug:
                services.append(other)

        previous = last_seen.get(slug)
        if previous and detected_at - previous[0] <= timedelta(days=30) and rng.random() < 0.08:
            _, alert_name, what, cause = previous  # It came back: same alert, same cause.
        else:
            alert_name, what = rng.choice(alert_names[slug])
            cause = _weighted(rng, root_causes[slug])
        last_seen[slug] = (detected_at, alert_name, what, cause)

        code = rng.choices(codes, weights=[PRIORITY_WEIGHTS[c] for c in codes])[0]
        is_drill = rng.random() < 0.03
        if is_drill:
            code = "P3" if "P3" in catalog.priorities else code
        response_target, resolution_target = targets_of[code]
        detection = _lognormal_minutes(rng, 5.0 - 2.0 * progress, 0.9)
        detection = min(detection, timedelta(hours=6))
        plan = IncidentPlan(
            title=f"{'Drill: ' if is_drill else ''}{catalog.services[slug].name}: {what}",
            priority=code,
            services=services,
            alert_name=alert_name,
            root_cause="" if is_drill else cause,
            status=S.RESOLVED,
            started_at=detected_at - detection,
            detected_at=detected_at,
            is_drill=is_drill,
            users_affected=_users_affected(rng, code),
        )
        if response_target:
            plan.response_due_at = detected_at + response_target
        if resolution_target:
            plan.resolution_due_at = detected_at + resolution_target
        response_minutes = (response_target or timedelta(hours=4)).total_seconds() / 60
        resolution_minutes = (resolution_target or timedelta(days=5)).total_seconds() / 60

        roll = rng.random()
        auto_rate = AUTO_RATE[kind] * (0.6 + 0.8 * progress) * (0.15 if code == "P1" else 1.0)
        if not is_drill and code in ("P3", "P4", "P5") and roll < 0.03:
            # A false alarm, dismissed without being worked.
            plan.status = S.CLOSED
            plan.dismissal_reason = DismissalReason.FALSE_ALARM
            plan.closed_at = detected_at + _lognormal_minutes(rng, 12, 0.8)
        elif not is_drill and roll < 0.03 + auto_rate:
            # Automation fixed it before anybody acknowledged.
            key = AUTO_FIXES[kind]
            run_start = detected_at + _lognormal_minutes(rng, 1.0, 0.5)
            run_end = run_start + _lognormal_minutes(rng, 2.0, 0.5)
            plan.resolved_at = run_end + _lognormal_minutes(rng, 3.0, 0.6)
            plan.auto_resolved = True
            plan.runs.append(RunPlan(key, RunStatus.SUCCEEDED, run_start, run_end, automated=True))
        else:
            if rng.random() < 0.25 and not is_drill:
                # A rule's automated response ran first; it did not resolve the incident.
                key = rng.choice([AUTO_FIXES[kind], "health-check", "log-collection"])
                run_start = detected_at + _lognormal_minutes(rng, 1.0, 0.5)
                run_end = run_start + _lognormal_minutes(rng, 1.5, 0.6)
                ok = rng.random() < action_rates[key]
                plan.runs.append(
                    RunPlan(
                        key,
                        RunStatus.SUCCEEDED if ok else RunStatus.FAILED,
                        run_start,
                        run_end,
                        automated=True,
                        error="" if ok else "Step 1 exited with status 1 on one host.",
                    )
                )
            ack = response_minutes * 0.45 * speed * (1.4 if night else 1.0) * math.exp(rng.gauss(0, 0.75))
            plan.acknowledged_at = detected_at + timedelta(minutes=max(0.5, ack))
            plan.assignee = rng.randrange(responders) if responders else None
            work = resolution_minutes * 0.3 * speed * math.exp(rng.gauss(0, 0.85))
            plan.resolved_at = plan.acknowledged_at + timedelta(minutes=max(2.0, work))
            if rng.random() < 0.2:
                # A responder ran something by hand while working it.
                key = rng.choice(list(action_rates))
                run_start = plan.acknowledged_at + (plan.resolved_at - plan.acknowledged_at) * rng.random()
                run_end = min(run_start + _lognormal_minutes(rng, 2.0, 0.6), plan.resolved_at)
                ok = rng.random() < action_rates[key]
                plan.runs.append(
                    RunPlan(
                        key,
                        RunStatus.SUCCEEDED if ok else RunStatus.FAILED,
                        run_start,
                        run_end,
                        automated=False,
                        error="" if ok else "Step 2 timed out waiting for the service to come back.",
                    )
                )
            if not is_drill and rng.random() < 0.05:
                plan.reopen_count = 2 if rng.random() < 0.1 else 1
                plan.first_resolved_at = plan.resolved_at
                plan.reopened_at = plan.resolved_at + _lognormal_minutes(rng, 180, 0.8)
                plan.resolved_at = plan.reopened_at + timedelta(minutes=max(2.0, work * 0.5))

        _fit_before(plan, end)
        _sla(plan, end)
        if not is_drill and (not plan.dismissal_reason or rng.random() < 0.9):
            _alerts(rng, plan, slug, alert_names[slug])
        if plan.status == S.RESOLVED:
            if code in POSTMORTEM_PRIORITIES and not is_drill:
                plan.postmortem = _postmortem(rng, plan, end, responders)
            _close(rng, plan, end)
        yield plan


def _cumulative(weights: Iterable[float]) -> Iterator[float]:
    total = 0.0
    for weight in weights:
        total += weight
        yield total


def _camel(target: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in target.replace("/", "-").split("-"))


def _users_affected(rng: random.Random, code: str) -> str:
    options = {
        "P1": [UsersAffected.ALL, UsersAffected.MANY],
        "P2": [UsersAffected.MANY, UsersAffected.SOME],
        "P3": [UsersAffected.SOME, UsersAffected.FEW],
    }.get(code, [UsersAffected.FEW, ""])
    return rng.choice(options)


def _fit_before(plan: IncidentPlan, end: datetime) -> None:
    """Nothing happens after `end`: times past it are pulled back in order (only the last days'
    incidents are touched), so the history never holds an open incident or a future timestamp."""
    limit = end - timedelta(minutes=1)
    for name in ("acknowledged_at", "first_resolved_at", "reopened_at", "resolved_at", "closed_at"):
        value = getattr(plan, name)
        if value is not None and value > limit:
            setattr(plan, name, limit)
    for run in plan.runs:
        run.started_at = min(run.started_at, limit)
        run.finished_at = min(run.finished_at, limit)
    if plan.resolved_at is not None:
        for run in plan.runs:
            if run.automated and plan.auto_resolved:
                run.finished_at = min(run.finished_at, plan.resolved_at)
                run.started_at = min(run.started_at, run.finished_at)


def _sla(plan: IncidentPlan, end: datetime) -> None:
    """Breach marks as the sweeper would have left them: at the due time, for a target missed."""
    responded = plan.acknowledged_at or plan.resolved_at or plan.closed_at
    if plan.response_due_at and responded and responded > plan.response_due_at:
        plan.response_breached_at = plan.response_due_at
    finished = plan.resolved_at or plan.closed_at
    if plan.resolution_due_at and finished and finished > plan.resolution_due_at:
        plan.resolution_breached_at = plan.resolution_due_at


def _alerts(rng: random.Random, plan: IncidentPlan, slug: str, names: list[tuple[str, str]]) -> None:
    severity = {"P1": "critical", "P2": "critical", "P3": "warning"}.get(plan.priority, "info")
    finished = plan.resolved_at or plan.closed_at or plan.detected_at
    count = rng.choices([1, 2, 3], weights=[70, 20, 10])[0]
    chosen = [plan.alert_name] + [rng.choice(names)[0] for _ in range(count - 1)]
    for index, name in enumerate(chosen):
        received = plan.detected_at + (timedelta(0) if index == 0 else _lognormal_minutes(rng, 4, 0.8))
        received = min(received, finished)
        starts = max(plan.started_at, received - _lognormal_minutes(rng, 1.5, 0.5))
        ends = max(received, finished - timedelta(minutes=rng.uniform(0.5, 5)))
        key = f"{slug}|{name}|{plan.detected_at.isoformat()}|{index}"
        fingerprint = hashlib.sha1(key.encode()).hexdigest()
        plan.alerts.append(AlertPlan(name, fingerprint[:16], severity, starts, received, ends, index == 0))


def _postmortem(rng: random.Random, plan: IncidentPlan, end: datetime, responders: int) -> PostmortemPlan:
    """Every resolved P1/P2 gets its draft (the worker writes one on resolution); older ones have
    moved on to review and publication more often than recent ones."""
    created = plan.resolved_at + timedelta(minutes=5)
    age = end - plan.resolved_at
    weights = (
        [80, 20, 0] if age < timedelta(days=3) else [30, 40, 30] if age < timedelta(days=14) else [8, 12, 80]
    )
    status = rng.choices([P.DRAFT, P.IN_REVIEW, P.PUBLISHED], weights=weights)[0]
    submitted = published = None
    if status != P.DRAFT:
        submitted = created + _lognormal_minutes(rng, 2 * 1440, 0.6)
        if status == P.PUBLISHED:
            published = submitted + _lognormal_minutes(rng, 2 * 1440, 0.6)
        if (published or submitted) >= end:
            status, submitted, published = P.DRAFT, None, None
    postmortem = PostmortemPlan(status, created, submitted, published, ROOT_CAUSE_TEXT[plan.root_cause])
    if status == P.DRAFT and rng.random() < 0.5:
        return postmortem
    today = end.date()
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(list(ActionItemKind))
        due = (created + timedelta(days=rng.randint(7, 45))).date()
        if due < today:
            item_status = rng.choices([A.DONE, A.WONT_DO, A.IN_PROGRESS, A.OPEN], weights=[70, 5, 10, 15])[0]
        else:
            item_status = rng.choices([A.OPEN, A.IN_PROGRESS, A.DONE], weights=[50, 30, 20])[0]
        item = ItemPlan(
            kind=kind,
            description=ITEM_TEXT[kind],
            owner=rng.randrange(responders) if responders else 0,
            due_date=due,
            status=item_status,
            created_at=min(created + timedelta(hours=1), end - timedelta(minutes=1)),
        )
        if item_status == A.DONE:
            done = datetime.combine(due, datetime.min.time(), tzinfo=created.tzinfo) + timedelta(
                days=rng.uniform(-10, 5)
            )
            item.completed_at = min(max(done, item.created_at), end - timedelta(minutes=1))
        elif item_status == A.WONT_DO:
            item.wont_do_reason = "Superseded by the platform migration."
        postmortem.items.append(item)
    return postmortem


def _close(rng: random.Random, plan: IncidentPlan, end: datetime) -> None:
    """Resolved incidents close a few hours later; a P1/P2 only once its post-mortem is submitted."""
    after = plan.resolved_at
    if plan.priority in POSTMORTEM_PRIORITIES and not plan.is_drill:
        postmortem = plan.postmortem
        if postmortem is None or postmortem.submitted_at is None:
            return
        after = max(after, postmortem.published_at or postmortem.submitted_at)
    closed = after + _lognormal_minutes(rng, 8 * 60, 1.0)
    if closed < end:
        plan.closed_at = closed
        plan.status = S.CLOSED


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
                    requested_by=None if run.automated or plan.assignee is None else users[plan.assignee],
                    status=run.status,
                    started_at=run.started_at,
                    finished_at=run.finished_at,
                    error=run.error,
                    created_at=run.started_at,
                    updated_at=run.finished_at,
                )
            )
        events.extend(_events(incident, plan, users))
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


def _events(incident: Incident, plan: IncidentPlan, users: list) -> list[TimelineEvent]:
    """The transitions' timeline, shaped like the services write it (details from/to)."""
    person = users[plan.assignee] if plan.assignee is not None else None
    events = []

    def add(kind, at, message, details, by=None, name="", source=Source.SYSTEM):
        events.append(
            TimelineEvent(
                incident=incident,
                kind=kind,
                occurred_at=at,
                actor=by,
                actor_name=name or (by.get_username() if by else "system"),
                source=source,
                message=message,
                details=details,
            )
        )

    origin = "alertmanager" if plan.alerts else ""
    add(
        EventKind.CREATED,
        plan.detected_at,
        f"Incident declared: {plan.title}",
        {"priority": plan.priority, "services": plan.services, "is_drill": plan.is_drill},
        by=None if origin else person,
        name=origin,
        source=Source.SYSTEM if origin else Source.ADMIN,
    )
    if plan.dismissal_reason:
        add(
            EventKind.DISMISSED,
            plan.closed_at,
            "Dismissed as a false alarm.",
            {"from": S.NEW, "to": S.CLOSED, "reason": plan.dismissal_reason},
            by=person,
            source=Source.ADMIN,
        )
        return events
    if plan.auto_resolved:
        add(
            EventKind.AUTO_RESOLVED,
            plan.resolved_at,
            "Resolved by automation: the alerts cleared.",
            {"from": S.NEW, "to": S.RESOLVED},
            name="auto-remediation",
            source=Source.TASK,
        )
    else:
        add(
            EventKind.ACKNOWLEDGED,
            plan.acknowledged_at,
            "Acknowledged.",
            {"from": S.NEW, "to": S.IN_PROGRESS},
            by=person,
            source=Source.ADMIN,
        )
        if plan.reopened_at is not None:
            add(
                EventKind.RESOLVED,
                plan.first_resolved_at,
                "Resolved.",
                {"from": S.IN_PROGRESS, "to": S.RESOLVED},
                by=person,
                source=Source.ADMIN,
            )
            add(
                EventKind.REOPENED,
                plan.reopened_at,
                "Reopened: it came back.",
                {"from": S.RESOLVED, "to": S.IN_PROGRESS},
                by=person,
                source=Source.ADMIN,
            )
        add(
            EventKind.RESOLVED,
            plan.resolved_at,
            "Resolved.",
            {"from": S.IN_PROGRESS, "to": S.RESOLVED},
            by=person,
            source=Source.ADMIN,
        )
    if plan.closed_at is not None:
        add(
            EventKind.CLOSED,
            plan.closed_at,
            "Closed.",
            {"from": S.RESOLVED, "to": S.CLOSED},
            by=person,
            source=Source.ADMIN,
        )
    return events


def history_incidents():
    """The generated incidents, told apart from everyone else's by MARKER."""
    return Incident.objects.filter(description__startswith=MARKER)


def history_exists() -> bool:
    return history_incidents().exists()


def history_clear() -> dict[str, int]:
    """Delete the generated incidents and what hangs off them (alerts, runs, post-mortems with their
    action items, timelines). The catalog rows it added (services, responders, actions, the source)
    stay: other rows may refer to them by now."""
    generated = history_incidents()
    with transaction.atomic():
        counts = {
            "alerts": Alert.objects.filter(incident__in=generated).delete()[0],
            "runs": ActionRun.objects.filter(incident__in=generated).delete()[0],
        }
        _, deleted = Postmortem.objects.filter(incident__in=generated).delete()
        counts["postmortems"] = deleted.get(Postmortem._meta.label, 0)
        _, deleted = generated.delete()
        counts["incidents"] = deleted.get(Incident._meta.label, 0)
    return counts
