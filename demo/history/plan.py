"""history_plan: deterministic plans for a spread of incidents (a seeded `random.Random`, a fixed
end)."""

import hashlib
import math
import random
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from django.utils import timezone

from actions.choices import RunStatus
from demo.history.data import (
    ACTIONS,
    AUTO_FIXES,
    AUTO_RATE,
    BASE_ROOT_CAUSES,
    CHECKS,
    DEFAULT_TARGETS,
    ITEM_TEXT,
    PRIORITY_WEIGHTS,
    ROOT_CAUSE_TEXT,
    SERVICES,
    TARGETS,
    A,
    P,
    S,
)
from demo.history.plans import AlertPlan, Catalog, IncidentPlan, ItemPlan, PostmortemPlan, RunPlan
from incidents.choices import DismissalReason, UsersAffected
from postmortems.choices import POSTMORTEM_PRIORITIES, ActionItemKind


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
