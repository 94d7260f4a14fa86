"""Which incidents a metric looks at: a detection-time range and optional service, service type,
team, priority and root-cause filters; drills are left out unless asked for."""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from incidents.models import Incident

RANGES = {"7d": 7, "30d": 30, "90d": 90}
GROUP_BYS = ("priority", "service_type", "root_cause", "team", "month")
BUCKETS = ("day", "week", "month")
UNCLASSIFIED = "unclassified"


@dataclass(frozen=True)
class Filters:
    """A half-open range [start, end) on `detected_at`, and what else narrows the incidents."""

    start: datetime
    end: datetime
    services: tuple[str, ...] = field(default_factory=tuple)  # slugs
    service_types: tuple[str, ...] = field(default_factory=tuple)
    teams: tuple[str, ...] = field(default_factory=tuple)  # Service.owner_team
    priorities: tuple[str, ...] = field(default_factory=tuple)  # codes, e.g. ("P1", "P2")
    root_causes: tuple[str, ...] = field(default_factory=tuple)
    include_drills: bool = False

    @classmethod
    def last(cls, days: int, *, now: datetime | None = None, **narrowing) -> "Filters":
        end = now or timezone.now()
        return cls(start=end - timedelta(days=days), end=end, **narrowing)

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    @property
    def days(self) -> float:
        return max(self.length.total_seconds() / 86400, 1 / 24)

    def previous(self) -> "Filters":
        """The period of the same length just before this one, with the same narrowing."""
        return replace(self, start=self.start - self.length, end=self.start)

    def with_range(self, start: datetime, end: datetime) -> "Filters":
        return replace(self, start=start, end=end)


def incidents_in(filters: Filters) -> QuerySet[Incident]:
    """The incidents the filters select, one row each (service filters go through a subquery, so
    an incident with two matching services is not counted twice)."""
    qs = Incident.objects.filter(detected_at__gte=filters.start, detected_at__lt=filters.end)
    if not filters.include_drills:
        qs = qs.filter(is_drill=False)
    if filters.priorities:
        qs = qs.filter(priority__code__in=filters.priorities)
    if filters.root_causes:
        codes = [c for c in filters.root_causes if c != UNCLASSIFIED]
        wanted = Incident.objects.filter(root_cause_category__in=codes)
        if UNCLASSIFIED in filters.root_causes:
            wanted = Incident.objects.filter(root_cause_category__in=[*codes, ""])
        qs = qs.filter(pk__in=wanted.values("pk"))
    through = Incident.services.through.objects.all()
    narrowed = False
    if filters.services:
        through, narrowed = through.filter(service__slug__in=filters.services), True
    if filters.service_types:
        through, narrowed = through.filter(service__type__in=filters.service_types), True
    if filters.teams:
        through, narrowed = through.filter(service__owner_team__in=filters.teams), True
    if narrowed:
        qs = qs.filter(pk__in=through.values("incident_id"))
    return qs
