"""The public page's reads. Each returns plain rows (models, dataclasses), not markup, so the pages
and the Statuspage-compatible JSON share them; each runs a fixed number of queries, however many
components, incidents and updates there are."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db.models import F, Max, Min, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone

from statuspage.choices import ACTIVE, ENDED, SEVERITY, ComponentStatus, Impact, Kind, PublicStatus, worst
from statuspage.history import Day, day_worst, window_days
from statuspage.models import (
    AffectedComponent,
    Component,
    ComponentGroup,
    ComponentStatusChange,
    PageSettings,
    PublicIncident,
    PublicUpdate,
)

# --- the overall status ---------------------------------------------------------------------------

# Statuspage's status.indicator, least to most severe: the page shows the worst that its shown
# components and its open incidents give. Components: all in major outage is critical "Major System
# Outage"; some in major outage major "Partial System Outage"; partial outage minor "Partial System
# Outage"; degraded minor "Minor Service Outage"; under maintenance "Service Under Maintenance". Open
# incidents give their impact, running maintenance "Service Under Maintenance". On a tie the
# components' wording wins: it says more.
INDICATORS = ("none", "maintenance", "minor", "major", "critical")
ALL_OPERATIONAL = ("none", "All Systems Operational")
UNDER_MAINTENANCE = ("maintenance", "Service Under Maintenance")
EVERYTHING_DOWN = ("critical", "Major System Outage")
COMPONENT_INDICATOR = {
    ComponentStatus.DEGRADED: ("minor", "Minor Service Outage"),
    ComponentStatus.PARTIAL_OUTAGE: ("minor", "Partial System Outage"),
    ComponentStatus.MAJOR_OUTAGE: ("major", "Partial System Outage"),
    ComponentStatus.MAINTENANCE: UNDER_MAINTENANCE,
}
IMPACT_INDICATOR = {
    Impact.MINOR: ("minor", "Minor Service Outage"),
    Impact.MAJOR: ("major", "Major Service Outage"),
    Impact.CRITICAL: ("critical", "Major System Outage"),
}


@dataclass(frozen=True)
class Indicator:
    indicator: str  # none | maintenance | minor | major | critical
    description: str


def shown_components() -> list[Component]:
    """The components on the page, in page order: ungrouped ones first, then each group's."""
    return list(
        Component.objects.filter(shown=True)
        .select_related("group")
        .order_by(F("group__order").asc(nulls_first=True), "group__name", "order", "name")
    )


def open_public_incidents() -> list[PublicIncident]:
    """Incidents not yet resolved and maintenance not yet completed (upcoming ones too), newest
    first, with their updates (newest first) and affected components."""
    return list(
        PublicIncident.objects.exclude(status__in=ENDED)
        .prefetch_related(
            Prefetch("updates", queryset=PublicUpdate.objects.order_by("-created_at", "-id")),
            Prefetch(
                "affected",
                queryset=AffectedComponent.objects.select_related("component").filter(component__shown=True),
            ),
        )
        .order_by("-started_at", "-id")
    )


def page_indicator(
    *,
    components: Iterable[Component] | None = None,
    open_incidents: Iterable[PublicIncident] | None = None,
) -> Indicator:
    """The page's overall status. Pass what the caller already read to spare the queries."""
    statuses = [component.status for component in (shown_components() if components is None else components)]
    if open_incidents is None:
        open_incidents = PublicIncident.objects.filter(status__in=ACTIVE).only("kind", "impact", "status")
    # Resolved incidents and maintenance still to come weigh nothing.
    impacts = [(public.kind, public.impact) for public in open_incidents if public.status in ACTIVE]
    return indicator_of(statuses, impacts)


def indicator_of(statuses: Iterable[str], impacts: Iterable[tuple[str, str]]) -> Indicator:
    """The one rule (the page's banner, status.json, summary.json, subscribers' webhooks): the worst
    that the shown components' `statuses` and the open incidents' (kind, impact) give."""
    statuses = list(statuses)
    candidates = [ALL_OPERATIONAL]
    if statuses and all(status == ComponentStatus.MAJOR_OUTAGE for status in statuses):
        candidates.append(EVERYTHING_DOWN)
    elif statuses and worst(statuses) in COMPONENT_INDICATOR:
        candidates.append(COMPONENT_INDICATOR[worst(statuses)])
    for kind, impact in impacts:
        if kind == Kind.MAINTENANCE:
            candidates.append(UNDER_MAINTENANCE)
        elif impact in IMPACT_INDICATOR:
            candidates.append(IMPACT_INDICATOR[impact])
    # max() keeps the first of equals, so the components' wording (listed first) wins a tie.
    chosen = max(candidates, key=lambda pair: INDICATORS.index(pair[0]))
    return Indicator(indicator=chosen[0], description=chosen[1])


# --- the history bars -----------------------------------------------------------------------------


# A letter per status for the bar's cells (4,500 of them for 50 components: every byte counts).
CELL_CODE = {
    ComponentStatus.OPERATIONAL: "o",
    ComponentStatus.MAINTENANCE: "m",
    ComponentStatus.DEGRADED: "d",
    ComponentStatus.PARTIAL_OUTAGE: "p",
    ComponentStatus.MAJOR_OUTAGE: "x",
}


@dataclass(frozen=True)
class BarDay:
    date: date
    status: str
    incidents: tuple[str, ...]

    @property
    def code(self) -> str:
        """The cell's class: the status's letter; "t" for an operational day with incidents."""
        if self.incidents and self.status == ComponentStatus.OPERATIONAL:
            return "t"
        return CELL_CODE[self.status]

    @property
    def label(self) -> str:
        told = "; ".join(self.incidents) if self.incidents else "No incidents"
        if self.status == ComponentStatus.OPERATIONAL:
            return f"{self.date:%-d %b %Y}: {told}"
        return f"{self.date:%-d %b %Y}: {ComponentStatus(self.status).label}. {told}"


def _changes_by_component(ids: list[int], opens: datetime) -> dict[int, list[tuple[datetime, str]]]:
    """Every change in the window, plus the last one before it (the status the window opens with),
    in one query."""
    last_before = (
        ComponentStatusChange.objects.filter(component_id=OuterRef("component_id"), at__lt=opens)
        .values("component_id")
        .annotate(last=Max("at"))
        .values("last")
    )
    rows = (
        ComponentStatusChange.objects.filter(component_id__in=ids)
        .filter(Q(at__gte=opens) | Q(at=Subquery(last_before)))
        .order_by("component_id", "at", "id")
        .values_list("component_id", "at", "status")
    )
    found: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for component_id, at, status in rows:
        found[component_id].append((at, status))
    return found


def _incidents_by_component(
    ids: list[int], opens: datetime, now: datetime
) -> dict[int, list[tuple[datetime, datetime, str]]]:
    """(start, end, public title) of the public incidents and maintenance that named each component
    during the window: one query."""
    rows = (
        AffectedComponent.objects.filter(
            component_id__in=ids,
            public_incident__started_at__lt=now,
        )
        .exclude(public_incident__status=PublicStatus.SCHEDULED)
        .filter(Q(public_incident__resolved_at__isnull=True) | Q(public_incident__resolved_at__gt=opens))
        .order_by("public_incident__started_at", "public_incident_id")
        .values_list(
            "component_id",
            "public_incident__started_at",
            "public_incident__resolved_at",
            "public_incident__title",
        )
    )
    found: dict[int, list[tuple[datetime, datetime, str]]] = defaultdict(list)
    for component_id, started, resolved, title in rows:
        found[component_id].append((started, resolved or now, title))
    return found


def history_bars(
    *, components: Sequence[Component], days: int, time_zone: str, now: datetime | None = None
) -> dict[int, list[BarDay]]:
    """Per component id, one BarDay per day of the last `days` days (oldest first, today last) in
    `time_zone`: the worst status it had that day and the public incidents that named it."""
    now = now or timezone.now()
    window = window_days(days=days, time_zone=time_zone, now=now)
    ids = [component.pk for component in components]
    if not ids or not window:
        return {pk: [] for pk in ids}
    opens = window[0].start
    changes = _changes_by_component(ids, opens)
    incidents = _incidents_by_component(ids, opens, now)
    bars = {}
    for pk in ids:
        before, inside = ComponentStatus.OPERATIONAL, []
        for at, status in changes.get(pk, []):
            if at < opens:
                before = status  # ordered by time: the last one before the window wins
            else:
                inside.append((at, status))
        statuses = day_worst(changes=inside, before=before, days=window)
        bars[pk] = [
            BarDay(date=day.date, status=status, incidents=_titles(incidents.get(pk, []), day))
            for day, status in zip(window, statuses, strict=True)
        ]
    return bars


def _titles(spans: list[tuple[datetime, datetime, str]], day: Day) -> tuple[str, ...]:
    return tuple(dict.fromkeys(title for start, end, title in spans if start < day.end and end > day.start))


# --- the index, an incident, the history ----------------------------------------------------------


@dataclass(frozen=True)
class ComponentRow:
    component: Component
    bar: list[BarDay]

    @property
    def summary(self) -> str:
        """The bar in words, for readers who do not see its colours."""
        troubled = [day for day in self.bar if day.status != ComponentStatus.OPERATIONAL or day.incidents]
        if not troubled:
            return f"Last {len(self.bar)} days: no incidents, operational every day."
        worst_day = max((day.status for day in troubled), key=SEVERITY.__getitem__)
        return (
            f"Last {len(self.bar)} days: {len(troubled)} with incidents or reduced service; "
            f"worst: {ComponentStatus(worst_day).label.lower()}."
        )


@dataclass
class GroupRow:
    group: ComponentGroup | None
    components: list[ComponentRow] = field(default_factory=list)


@dataclass
class Overview:
    indicator: Indicator
    groups: list[GroupRow]
    incidents: list[PublicIncident]  # open incidents, newest first
    maintenance: list[PublicIncident]  # in progress, then upcoming, soonest first


def page_overview(*, days: int, time_zone: str, now: datetime | None = None) -> Overview:
    """Everything /status/ shows, in six queries whatever the page holds."""
    now = now or timezone.now()
    components = shown_components()
    open_ = open_public_incidents()
    bars = history_bars(components=components, days=days, time_zone=time_zone, now=now)
    groups: list[GroupRow] = []
    for component in components:
        if not groups or groups[-1].group != component.group:
            groups.append(GroupRow(group=component.group))
        groups[-1].components.append(ComponentRow(component=component, bar=bars[component.pk]))
    maintenance = [public for public in open_ if public.kind == Kind.MAINTENANCE]
    maintenance.sort(key=lambda public: (public.status == PublicStatus.SCHEDULED, public.scheduled_for))
    return Overview(
        indicator=page_indicator(components=components, open_incidents=open_),
        groups=groups,
        incidents=[public for public in open_ if public.kind == Kind.INCIDENT],
        maintenance=maintenance,
    )


def public_incident_detail(*, pk: int) -> PublicIncident | None:
    """One incident or maintenance with its updates (oldest first) and affected shown components."""
    return (
        PublicIncident.objects.filter(pk=pk)
        .prefetch_related(
            Prefetch("updates", queryset=PublicUpdate.objects.order_by("created_at", "id")),
            Prefetch(
                "affected",
                queryset=AffectedComponent.objects.select_related("component").filter(component__shown=True),
            ),
        )
        .first()
    )


@dataclass
class Month:
    first_day: date
    incidents: list[PublicIncident]


@dataclass
class HistoryPage:
    number: int
    months: list[Month]  # newest first
    has_older: bool


def _month_shift(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def history_page(
    *, number: int, time_zone: str, months_per_page: int = 3, now: datetime | None = None
) -> HistoryPage | None:
    """Ended incidents and maintenance by month of their start (in `time_zone`), newest month
    first, `months_per_page` calendar months a page; None for a page past the oldest incident."""
    now = now or timezone.now()
    zone = ZoneInfo(time_zone)
    this_month = now.astimezone(zone).date().replace(day=1)
    ended = PublicIncident.objects.filter(status__in=ENDED)
    oldest = ended.aggregate(first=Min("started_at"))["first"]
    oldest_month = oldest.astimezone(zone).date().replace(day=1) if oldest else this_month
    span = (this_month.year - oldest_month.year) * 12 + this_month.month - oldest_month.month
    last_page = max(span, 0) // months_per_page + 1
    if number < 1 or number > last_page:
        return None
    newest = _month_shift(this_month, (number - 1) * months_per_page)
    firsts = [_month_shift(newest, back) for back in range(months_per_page)]
    opens = datetime.combine(firsts[-1], datetime.min.time(), tzinfo=zone)
    closes = datetime.combine(_month_shift(newest, -1), datetime.min.time(), tzinfo=zone)
    months = {first: Month(first_day=first, incidents=[]) for first in firsts}
    for public in ended.filter(started_at__gte=opens, started_at__lt=closes).order_by("-started_at", "-id"):
        months[public.started_at.astimezone(zone).date().replace(day=1)].incidents.append(public)
    return HistoryPage(number=number, months=list(months.values()), has_older=number < last_page)


def page_logo() -> tuple[bytes, str]:
    """The logo's bytes and content type ((b"", "") without one)."""
    row = PageSettings.objects.filter(pk=1).values_list("logo", "logo_content_type").first()
    return (bytes(row[0] or b""), row[1]) if row else (b"", "")
