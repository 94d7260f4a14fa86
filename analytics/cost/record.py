"""An incident's cost read from its record: the timeline says who worked on it from when, and when
it was resolved or reopened; the post-mortem says when the review meeting is and who is invited;
the services' owner teams say which hourly rate applies."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.utils import timezone

from analytics.cost.hours import involved, involvement, meeting_time, working_windows
from analytics.models import HourlyRate
from incidents.choices import EventKind
from incidents.models import Incident, TimelineEvent
from postmortems.ics import REVIEW_LENGTH
from postmortems.models import Postmortem

# Events that end a working window, and the one that opens a new one.
ENDS = {EventKind.RESOLVED, EventKind.AUTO_RESOLVED, EventKind.DISMISSED, EventKind.CLOSED}
REOPENS = {EventKind.REOPENED}
CENT = Decimal("0.01")


@dataclass(frozen=True)
class ResponderTime:
    user_id: int
    name: str
    seconds: int

    @property
    def hours(self) -> float:
        return self.seconds / 3600


@dataclass(frozen=True)
class Rate:
    """The rate an incident's hours are priced at; `team` is blank for the default rate."""

    rate: Decimal
    team: str = ""

    @property
    def is_default(self) -> bool:
        return not self.team


@dataclass(frozen=True)
class IncidentCostBreakdown:
    responders: list[ResponderTime]
    meeting_at: datetime | None
    meeting_invitees: int
    meeting_seconds: int
    rate: Rate
    open: bool  # Still open: responder time runs to `computed_at`.
    computed_at: datetime
    currency: str = field(default_factory=lambda: settings.COST_CURRENCY)

    @property
    def responder_seconds(self) -> int:
        return sum(r.seconds for r in self.responders)

    @property
    def responder_hours(self) -> float:
        return self.responder_seconds / 3600

    @property
    def meeting_hours(self) -> float:
        return self.meeting_seconds / 3600

    @property
    def hours(self) -> float:
        return (self.responder_seconds + self.meeting_seconds) / 3600

    @property
    def meeting_held(self) -> bool:
        return self.meeting_at is not None and self.meeting_at <= self.computed_at

    @property
    def amount(self) -> Decimal:
        return cost_amount(seconds=self.responder_seconds + self.meeting_seconds, rate=self.rate.rate)


def cost_amount(*, seconds: int, rate: Decimal) -> Decimal:
    """Person-seconds priced at an hourly rate, to the cent: the one rounding everything shows."""
    return (Decimal(seconds) * rate / 3600).quantize(CENT, rounding=ROUND_HALF_UP)


def default_rate() -> Decimal:
    return Decimal(str(settings.COST_DEFAULT_HOURLY_RATE))


def incident_rate(incident: Incident) -> Rate:
    """The first of the incident's services, in the order they were added, whose owner team has a
    rate; else the default. One rate per incident: responders are people, not services, and
    Mitigate does not know their teams (2 queries)."""
    teams = list(
        Incident.services.through.objects.filter(incident=incident)
        .exclude(service__owner_team="")
        .order_by("pk")
        .values_list("service__owner_team", flat=True)
    )
    rates = dict(HourlyRate.objects.filter(team__in=teams).values_list("team", "rate")) if teams else {}
    for team in teams:
        if team in rates:
            return Rate(rate=rates[team], team=team)
    return Rate(rate=default_rate())


def _assigned_usernames(kind: str, details: dict) -> list[str]:
    """Who an event gives a role or the incident to: they are involved from then on."""
    if kind == EventKind.CREATED:
        return [details[key] for key in ("assignee", "commander") if details.get(key)]
    if kind in (EventKind.ROLE_ASSIGNED, EventKind.ASSIGNEE_CHANGED) and details.get("to"):
        return [details["to"]]
    return []


def incident_cost_breakdown(incident: Incident, *, now: datetime | None = None) -> IncidentCostBreakdown:
    """The cost of one incident from its record (5 queries)."""
    now = now or timezone.now()
    events = list(
        TimelineEvent.objects.filter(incident=incident)
        .order_by("occurred_at", "pk")
        .values_list("kind", "occurred_at", "actor_id", "details")
    )
    opened_at = min([incident.detected_at, *(at for _, at, _, _ in events)])
    changes = [(at, kind in REOPENS) for kind, at, _, _ in events if kind in ENDS | REOPENS]
    windows = working_windows(opened_at=opened_at, changes=changes)

    by_id: dict[int, list[datetime]] = {}
    by_username: dict[str, list[datetime]] = {}
    for kind, at, actor_id, details in events:
        if actor_id is not None:
            by_id.setdefault(actor_id, []).append(at)
        for username in _assigned_usernames(kind, details or {}):
            by_username.setdefault(username, []).append(at)
    user_model = get_user_model()
    users = user_model.objects.filter(
        Q(pk__in=by_id) | Q(**{f"{user_model.USERNAME_FIELD}__in": list(by_username)})
    ).order_by("pk")
    responders = []
    for user in users:
        starts = by_id.get(user.pk, []) + by_username.get(user.get_username(), [])
        if involved(starts=starts, windows=windows, now=now):
            seconds = int(involvement(starts=starts, windows=windows, now=now).total_seconds())
            responders.append(
                ResponderTime(
                    user_id=user.pk, name=user.get_full_name() or user.get_username(), seconds=seconds
                )
            )
    responders.sort(key=lambda r: (-r.seconds, r.name))

    review = (
        Postmortem.objects.filter(incident=incident, review_at__isnull=False)
        .annotate(invitees=Count("review_attendees"))
        .values_list("review_at", "invitees")
        .first()
    )
    meeting_at, invitees = review if review is not None else (None, 0)
    meeting = meeting_time(length=REVIEW_LENGTH, invitees=invitees)
    return IncidentCostBreakdown(
        responders=responders,
        meeting_at=meeting_at,
        meeting_invitees=invitees,
        meeting_seconds=int(meeting / timedelta(seconds=1)),
        rate=incident_rate(incident),
        open=windows[-1].end is None,
        computed_at=now,
    )
