"""What the follow-up achieved: action effectiveness and post-mortem follow-through."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Avg, Count, Exists, F, OuterRef, Q
from django.utils import timezone

from actions.choices import RunStatus
from actions.models import ActionRun
from analytics.filters import Filters, incidents_in
from analytics.selectors.clocks import FINISHED_RUNS, DurationStats, clock_stats, duration_between
from analytics.selectors.summary import ratio
from postmortems.choices import (
    OPEN_ITEM_STATUSES,
    POSTMORTEM_PRIORITIES,
    POSTMORTEM_READY_STATUSES,
    ActionItemStatus,
)
from postmortems.models import ActionItem


@dataclass(frozen=True)
class ActionStats:
    action_id: int
    action: str
    runs: int
    succeeded: int
    success_rate: float | None
    mean_duration: timedelta | None


@dataclass(frozen=True)
class ActionEffectiveness:
    actions: list[ActionStats]
    mttr_with_automation: DurationStats
    mttr_without_automation: DurationStats


def action_stats(filters: Filters) -> list[ActionStats]:
    """Per action: finished runs on the filtered incidents, success rate, mean duration (1 query)."""
    runs = ActionRun.objects.filter(incident__in=incidents_in(filters).values("pk"), status__in=FINISHED_RUNS)
    rows = (
        runs.values("action_id", "action__name")
        .annotate(
            runs=Count("pk"),
            succeeded=Count("pk", filter=Q(status=RunStatus.SUCCEEDED)),
            mean=Avg(duration_between("finished_at", "started_at")),
        )
        .order_by("-runs", "action__name")
    )
    return [
        ActionStats(
            action_id=row["action_id"],
            action=row["action__name"],
            runs=row["runs"],
            succeeded=row["succeeded"],
            success_rate=ratio(row["succeeded"], row["runs"]),
            mean_duration=row["mean"],
        )
        for row in rows
    ]


def action_effectiveness(filters: Filters) -> ActionEffectiveness:
    """`action_stats`, and MTTR of incidents that had an automated run (requested by the system,
    e.g. an alert rule) against the rest."""
    actions = action_stats(filters)
    # A state capture (capture_service) is system-requested too, but remedies nothing.
    automated = Exists(
        ActionRun.objects.filter(
            incident=OuterRef("pk"), requested_by__isnull=True, capture_service__isnull=True
        )
    )
    qs = incidents_in(filters).annotate(automated=automated)
    split = clock_stats(qs, "mttr", F("automated"))
    return ActionEffectiveness(
        actions=actions,
        mttr_with_automation=split.get(True, DurationStats()),
        mttr_without_automation=split.get(False, DurationStats()),
    )


@dataclass(frozen=True)
class FollowThrough:
    p1_p2_resolved: int
    postmortems_completed: int
    completion_rate: float | None
    items_done: int
    items_open: int
    items_overdue: int
    items_wont_do: int


def postmortem_follow_through(filters: Filters, *, today: date | None = None) -> FollowThrough:
    """P1/P2 incidents resolved in the range with a post-mortem in review or published, and the
    status of those post-mortems' action items (2 queries)."""
    today = today or timezone.localdate()
    serious = incidents_in(filters).filter(
        priority__code__in=POSTMORTEM_PRIORITIES, resolved_at__isnull=False
    )
    pm = serious.aggregate(
        resolved=Count("pk"),
        completed=Count("pk", filter=Q(postmortem__status__in=POSTMORTEM_READY_STATUSES)),
    )
    items = ActionItem.objects.filter(postmortem__incident__in=serious.values("pk")).aggregate(
        done=Count("pk", filter=Q(status=ActionItemStatus.DONE)),
        open=Count("pk", filter=Q(status__in=OPEN_ITEM_STATUSES)),
        overdue=Count("pk", filter=Q(status__in=OPEN_ITEM_STATUSES, due_date__lt=today)),
        wont=Count("pk", filter=Q(status=ActionItemStatus.WONT_DO)),
    )
    return FollowThrough(
        p1_p2_resolved=pm["resolved"],
        postmortems_completed=pm["completed"],
        completion_rate=ratio(pm["completed"], pm["resolved"]),
        items_done=items["done"],
        items_open=items["open"],
        items_overdue=items["overdue"],
        items_wont_do=items["wont"],
    )
