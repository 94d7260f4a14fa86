"""Reads of the on-call app: who is on call (oncall/shifts.py does the math) and the lists the admin,
the API and the feeds show."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from common.actor import Source
from incidents.choices import EventKind as TimelineKind
from incidents.models import Incident, Service
from notifications.choices import ChannelKind, EventKind
from notifications.models import Channel, Delivery
from oncall.acklinks import AckClaim, AckLinkInvalidError, ack_token_read
from oncall.choices import PageStatus
from oncall.ics import Event
from oncall.models import (
    CalendarFeed,
    EscalationPolicy,
    EscalationStep,
    Layer,
    LayerMember,
    Override,
    Page,
    PolicyService,
    Schedule,
)
from oncall.shifts import Cover, Rotation, ScheduleShifts, Shift, schedule_shifts_of, users_at

_LAYER_FIELDS = (
    "id",
    "schedule_id",
    "level",
    "rotation_unit",
    "rotation_length",
    "start_date",
    "handoff_time",
    "weekdays_text",
    "restrict_start_time",
    "restrict_end_time",
)
_OVERRIDE_FIELDS = ("id", "schedule_id", "user_id", "replaces_id", "starts_at", "ends_at", "created_at")


def schedule_list() -> QuerySet[Schedule]:
    """Schedules with their layers and members (and the members' users) fetched."""
    return Schedule.objects.prefetch_related("layers__members__user")


def override_list(*, schedule: Schedule | None = None) -> QuerySet[Override]:
    overrides = Override.objects.select_related("schedule", "user", "replaces", "created_by")
    return overrides if schedule is None else overrides.filter(schedule=schedule)


def pages_open_for(*, user: AbstractBaseUser) -> QuerySet[Page]:
    """Escalating pages that paged the user: the ledger holds a page message to them for the incident."""
    paged = Delivery.objects.filter(user=user, event_kind=EventKind.PAGE).values("incident_id")
    return (
        Page.objects.filter(status=PageStatus.ESCALATING, incident_id__in=paged)
        .select_related("incident", "incident__priority", "policy")
        .order_by("-created_at", "-id")
    )


def schedules_of(*, user: AbstractBaseUser) -> QuerySet[Schedule]:
    """The schedules the user takes turns on, by name."""
    return Schedule.objects.filter(layers__members__user=user).distinct().order_by("name")


def calendar_feed_list(*, owner: AbstractBaseUser) -> QuerySet[CalendarFeed]:
    return CalendarFeed.objects.filter(owner=owner).select_related("schedule")


def calendar_feed_digest(token: str) -> str:
    """SHA-256 of a feed token: 256 random bits, so a fast unsalted hash is enough, and the lookup
    is one indexed equality (no comparison that leaks timing about the token)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def calendar_feed_by_token(*, token: str) -> CalendarFeed | None:
    """The active feed with this token, or None (unknown or revoked)."""
    return (
        CalendarFeed.objects.select_related("owner", "schedule")
        .filter(token_hash=calendar_feed_digest(token), revoked_at__isnull=True)
        .first()
    )


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _members(layer_ids: Iterable[int] | None, schedule_ids: list[int] | None) -> dict[int, list[int]]:
    """Layer id -> member user ids in position order, in one query."""
    rows = LayerMember.objects.order_by("layer_id", "position")
    if layer_ids is not None:
        rows = rows.filter(layer_id__in=list(layer_ids))
    elif schedule_ids is not None:
        rows = rows.filter(layer__schedule_id__in=schedule_ids)
    members: dict[int, list[int]] = defaultdict(list)
    for layer_id, user_id in rows.values_list("layer_id", "user_id"):
        members[layer_id].append(user_id)
    return members


@lru_cache(maxsize=256)
def _weekdays(text: str | None) -> frozenset[int]:
    """restrict_weekdays read as text and decoded once per distinct value: decoding the JSON of
    every layer was a fifth of a lookup over thousands of schedules."""
    return frozenset(json.loads(text) or ()) if text else frozenset()


def _layer_rows(layers: QuerySet[Layer]) -> QuerySet:
    return layers.annotate(weekdays_text=Cast("restrict_weekdays", TextField())).values(*_LAYER_FIELDS)


def _rotation(row: dict, members: list[int]) -> Rotation:
    return Rotation(
        id=row["id"],
        level=row["level"],
        unit=row["rotation_unit"],
        length=row["rotation_length"],
        start_date=row["start_date"],
        handoff_time=row["handoff_time"],
        members=tuple(members),
        weekdays=_weekdays(row["weekdays_text"]),
        window_start=row["restrict_start_time"],
        window_end=row["restrict_end_time"],
    )


def _cover(row: dict) -> Cover:
    return Cover(
        id=row["id"],
        user_id=row["user_id"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        replaces_id=row["replaces_id"],
        rank=(row["created_at"], row["id"]),
    )


def oncall_at(
    *,
    schedules: Iterable[Schedule] | QuerySet[Schedule] | None = None,
    at: dt.datetime | None = None,
    all_layers: bool = False,
) -> dict[int, list]:
    """Schedule id -> the users on call at `at` (now by default) for the given schedules (all when
    None): the one on top, or with `all_layers` every layer's person in level order.

    A constant number of queries whatever the number of schedules: schedules (unless instances were
    given), layers, members, the overrides in force at `at`, users."""
    at = at or timezone.now()
    if schedules is None:
        # Only ids and zones are needed: tuples, not model instances (this runs for every schedule).
        loaded = list(Schedule.objects.order_by().values_list("id", "time_zone"))
        ids: list[int] | None = None
    else:
        loaded = [(schedule.id, schedule.time_zone) for schedule in schedules]
        ids = [schedule_id for schedule_id, _ in loaded]
    if not loaded:
        return {}
    # No ORDER BY: the rows are grouped here, and sorting them would cost the database a temp tree.
    layers = _layer_rows(Layer.objects.order_by())
    overrides = (
        Override.objects.order_by().filter(starts_at__lte=at, ends_at__gt=at).values(*_OVERRIDE_FIELDS)
    )
    if ids is not None:
        layers = layers.filter(schedule_id__in=ids)
        overrides = overrides.filter(schedule_id__in=ids)
    layer_rows = list(layers)
    members = _members(None, ids)
    rotations: dict[int, list[Rotation]] = defaultdict(list)
    for row in layer_rows:
        rotations[row["schedule_id"]].append(_rotation(row, members.get(row["id"], [])))
    covers: dict[int, list[Cover]] = defaultdict(list)
    for row in overrides:
        covers[row["schedule_id"]].append(_cover(row))

    zones: dict[str, ZoneInfo] = {}
    answer: dict[int, list[int]] = {}
    for schedule_id, zone_name in loaded:
        zone = zones.get(zone_name) or zones.setdefault(zone_name, _zone(zone_name))
        answer[schedule_id] = users_at(
            rotations.get(schedule_id, ()), covers.get(schedule_id, ()), zone, at, all_layers=all_layers
        )
    wanted = {user_id for people in answer.values() for user_id in people}
    users = get_user_model().objects.in_bulk(wanted) if wanted else {}
    return {
        schedule_id: [users[user_id] for user_id in people if user_id in users]
        for schedule_id, people in answer.items()
    }


def _shifts_for(schedules: list[Schedule], start: dt.datetime, end: dt.datetime) -> dict[int, ScheduleShifts]:
    """Each schedule's shifts over [start, end), in a constant number of queries."""
    ids = [schedule.id for schedule in schedules]
    layers = list(Layer.objects.filter(schedule_id__in=ids))
    members = _members([layer.id for layer in layers], None)
    covers: dict[int, list[Cover]] = defaultdict(list)
    for override in Override.objects.filter(schedule_id__in=ids, starts_at__lt=end, ends_at__gt=start):
        covers[override.schedule_id].append(Cover.of(override))
    by_schedule: dict[int, list[tuple[Layer, Rotation]]] = defaultdict(list)
    for layer in layers:
        by_schedule[layer.schedule_id].append((layer, Rotation.of(layer, members.get(layer.id, []))))
    return {
        schedule.id: schedule_shifts_of(
            by_schedule.get(schedule.id, []),
            covers.get(schedule.id, []),
            _zone(schedule.time_zone),
            start,
            end,
        )
        for schedule in schedules
    }


def schedule_shifts(*, schedule: Schedule, start: dt.datetime, end: dt.datetime) -> ScheduleShifts:
    """The schedule over [start, end): each layer's shifts (highest level first, with its Layer), the
    overrides, and the final shifts."""
    return _shifts_for([schedule], start, end)[schedule.id]


def user_shifts(
    *, user: AbstractBaseUser, start: dt.datetime, end: dt.datetime
) -> list[tuple[Schedule, Shift]]:
    """The user's final shifts over [start, end) on every schedule, in time order."""
    member_of = LayerMember.objects.filter(user=user).values("layer__schedule_id")
    covering = Override.objects.filter(user=user, starts_at__lt=end, ends_at__gt=start).values("schedule_id")
    schedules = list(Schedule.objects.filter(Q(id__in=member_of) | Q(id__in=covering)))
    computed = _shifts_for(schedules, start, end)
    found = [
        (schedule, shift)
        for schedule in schedules
        for shift in computed[schedule.id].final
        if shift.user_id == user.pk
    ]
    return sorted(found, key=lambda pair: (pair[1].start, pair[0].name))


# Calendar clients refresh a feed every few hours; two weeks back and three months ahead covers
# what anyone looks at. The range starts at a UTC midnight so a shift cut by it keeps its UID all day.
FEED_PAST = dt.timedelta(days=14)
FEED_FUTURE = dt.timedelta(days=90)


def _display(user: AbstractBaseUser) -> str:
    return user.get_full_name() or user.get_username()


def calendar_feed_events(*, feed: CalendarFeed, now: dt.datetime | None = None) -> tuple[str, list[Event]]:
    """The feed's calendar name and events: a schedule's final shifts, or the owner's shifts on
    every schedule."""
    now = now or timezone.now()
    start = dt.datetime.combine((now - FEED_PAST).astimezone(dt.UTC).date(), dt.time(), tzinfo=dt.UTC)
    end = start + FEED_PAST + FEED_FUTURE + dt.timedelta(days=1)
    if feed.schedule is not None:
        pairs = [
            (feed.schedule, shift)
            for shift in schedule_shifts(schedule=feed.schedule, start=start, end=end).final
        ]
        name = f"On call: {feed.schedule.name}"
    else:
        pairs = user_shifts(user=feed.owner, start=start, end=end)
        name = f"On call: {_display(feed.owner)}"
    wanted = {shift.user_id for _, shift in pairs}
    users = get_user_model().objects.in_bulk(wanted) if wanted else {}
    events = [
        Event(
            uid=f"oncall-{schedule.id}-{shift.user_id}-{shift.start.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}@mitigate",
            start=shift.start,
            end=shift.end,
            summary=f"On call: {schedule.name} ({_display(users[shift.user_id])})",
        )
        for schedule, shift in pairs
        if shift.user_id in users
    ]
    return name, events


@dataclass(frozen=True)
class ServiceOnCall:
    """Who a page about the service reaches first: its policy's first step's people and whoever is
    on call on that step's schedules (at `at`)."""

    service: Service
    policy: EscalationPolicy
    users: list
    schedules: list[tuple[Schedule, list]]


def services_oncall(*, at: dt.datetime | None = None) -> list[ServiceOnCall]:
    """Every service that has an escalation policy, by name, with who its first step would page at
    `at` (now by default). A constant number of queries, whatever the number of services."""
    links = list(
        PolicyService.objects.select_related("service", "policy")
        .prefetch_related(
            Prefetch(
                "policy__steps",
                queryset=EscalationStep.objects.order_by("position").prefetch_related("users", "schedules"),
            )
        )
        .order_by("service__name", "service_id")
    )
    first_steps = {link.policy_id: next(iter(link.policy.steps.all()), None) for link in links}
    schedules = {s.pk: s for step in first_steps.values() if step for s in step.schedules.all()}
    on_call = oncall_at(schedules=list(schedules.values()), at=at) if schedules else {}
    answer = []
    for link in links:
        step = first_steps[link.policy_id]
        answer.append(
            ServiceOnCall(
                service=link.service,
                policy=link.policy,
                users=[user for user in step.users.all() if user.is_active] if step else [],
                schedules=[(s, on_call.get(s.pk, [])) for s in step.schedules.all()] if step else [],
            )
        )
    return answer


# --- Acknowledging from the page: what the link's page and the SMS webhook read ---


@dataclass(frozen=True)
class AckLink:
    claim: AckClaim
    page: Page


def ack_link_open(*, token: str) -> AckLink:
    """The claim and its page (with the incident); AckLinkInvalidError for a bad token or a page
    that no longer exists."""
    claim = ack_token_read(token)
    page = (
        Page.objects.select_related("incident__priority", "incident__assignee", "policy", "ended_by")
        .filter(pk=claim.page_id)
        .first()
    )
    if page is None:
        raise AckLinkInvalidError("This acknowledge link is for a page that no longer exists.")
    return AckLink(claim=claim, page=page)


def ack_link_paged_user(*, link: AckLink) -> AbstractBaseUser | None:
    if link.claim.user_id is None:
        return None
    return get_user_model().objects.filter(pk=link.claim.user_id).first()


def page_notified(*, page: Page) -> list[str]:
    """Who the page has reached so far, as its steps recorded them ("alice via SMS"), in order."""
    labels: list[str] = []
    for notified in page.steps.order_by("loop", "position").values_list("notified", flat=True):
        labels += [str(label) for label in notified if label] if isinstance(notified, list) else []
    return list(dict.fromkeys(labels))


def incident_acknowledged_by(*, incident: Incident) -> str:
    """Who acknowledged the incident (the latest acknowledgement on its timeline), or ""."""
    event = (
        incident.timeline_events.filter(kind=TimelineKind.ACKNOWLEDGED)
        .order_by("-occurred_at", "-id")
        .first()
    )
    if event is None:
        return ""
    source = Source(event.source).label if event.source in Source.values else event.source
    return f"{event.actor_name} ({source})"


def sms_auth_token_for(*, to_number: str) -> str:
    """The Twilio auth token that verifies a reply sent to `to_number`: that of the enabled SMS
    channel sending from it, or NOTIFICATIONS_TWILIO_CREDENTIALS' when it is the number pages to
    people's own phones go from (NOTIFICATIONS_SMS_FROM). "" when no sender of ours has the number."""
    to_number = to_number.strip()
    if not to_number:
        return ""
    for channel in Channel.objects.filter(kind=ChannelKind.SMS, enabled=True).order_by("pk"):
        if str(channel.config.get("from_number", "")).strip() == to_number:
            return channel.secret.partition(":")[2]
    if settings.NOTIFICATIONS_SMS_FROM.strip() == to_number:
        return settings.NOTIFICATIONS_TWILIO_CREDENTIALS.partition(":")[2]
    return ""
