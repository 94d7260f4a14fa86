"""Calendar feeds: the token is the credential, stored only as a hash, never logged; the .ics is
read back with a real parser (icalendar). The API viewset is mounted by this module's urlconf here
(oncall/api/urls.py registers it for real)."""

import datetime as dt
import logging
from urllib.parse import quote
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.urls import include, path
from django.utils import timezone

from common.api.routers import Router
from common.exceptions import ConflictError, PermissionDeniedError
from oncall.api.feeds import CalendarFeedViewSet
from oncall.ics import Event, calendar, fold, plain_text
from oncall.models import CalendarFeed, Schedule
from oncall.selectors import calendar_feed_digest, calendar_feed_events
from oncall.services.feeds import calendar_feed_create, calendar_feed_revoke
from tests.factories import UserFactory
from tests.hostile import HOSTILE
from tests.incidents.api_support import client_for
from tests.oncall.support_schedules import layer_make, override_make, two_layer_schedule

router = Router()
router.include_root_view = False
router.register("calendar-feeds", CalendarFeedViewSet, basename="calendar-feed")
urlpatterns = [path("oncall/", include("oncall.urls")), path("api/v1/oncall/", include(router.urls))]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]
BERLIN = ZoneInfo("Europe/Berlin")
FEEDS = "/api/v1/oncall/calendar-feeds/"


def berlin(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=BERLIN)


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.fixture
def people():
    return {
        "alice": UserFactory(username="alice", first_name="Alice", last_name="Liddell", groups=["Viewer"]),
        "bob": UserFactory(username="bob", groups=["Viewer"]),
        "carol": UserFactory(username="carol"),
        "dave": UserFactory(username="dave"),
    }


@pytest.fixture
def ops(people):
    return two_layer_schedule(
        name="Ops", primary=[people["alice"], people["bob"]], daytime=[people["carol"], people["dave"]]
    )


def parse(body: bytes) -> list[tuple[str, dt.datetime, dt.datetime, str]]:
    cal = icalendar.Calendar.from_ical(body)
    return [
        (str(event["SUMMARY"]), event.decoded("DTSTART"), event.decoded("DTEND"), str(event["UID"]))
        for event in cal.walk("VEVENT")
    ]


# --- the service -----------------------------------------------------------------------------------


def test_a_feed_stores_only_the_hash_of_its_token(people, ops):
    feed, token = calendar_feed_create(owner=people["alice"], schedule=ops)
    assert len(token) >= 43
    assert feed.token_hash == calendar_feed_digest(token) and feed.token_prefix == token[:8]
    stored = CalendarFeed.objects.filter(pk=feed.pk).values().get()
    assert not any(token in str(value) for value in stored.values())


def test_a_schedule_feed_needs_permission_to_see_schedules(people, ops):
    with pytest.raises(PermissionDeniedError):
        calendar_feed_create(owner=people["carol"], schedule=ops)
    feed, _ = calendar_feed_create(owner=people["carol"])
    assert feed.schedule is None


def test_revoking_twice_conflicts_and_only_the_owner_revokes(people):
    feed, _ = calendar_feed_create(owner=people["alice"])
    with pytest.raises(PermissionDeniedError):
        calendar_feed_revoke(feed=feed, by=people["bob"])
    assert calendar_feed_revoke(feed=feed, by=people["alice"]).revoked_at is not None
    with pytest.raises(ConflictError):
        calendar_feed_revoke(feed=feed, by=people["alice"])


# --- what a feed holds -----------------------------------------------------------------------------


def test_schedule_feed_holds_the_final_shifts(people, ops):
    override_make(
        schedule=ops,
        user=people["bob"],
        starts_at=berlin("2026-06-01 12:00"),
        ends_at=berlin("2026-06-01 13:00"),
    )
    feed, _ = calendar_feed_create(owner=people["alice"], schedule=ops)
    name, events = calendar_feed_events(feed=feed, now=berlin("2026-06-02 12:00"))
    assert name == "On call: Ops"
    # The range starts at the UTC midnight two weeks back (before the layers start) and runs 90 days on.
    assert [(e.summary, e.start, e.end) for e in events[:6]] == [
        ("On call: Ops (carol)", berlin("2026-06-01 09:00"), berlin("2026-06-01 12:00")),
        ("On call: Ops (bob)", berlin("2026-06-01 12:00"), berlin("2026-06-01 13:00")),
        ("On call: Ops (carol)", berlin("2026-06-01 13:00"), berlin("2026-06-01 17:00")),
        ("On call: Ops (Alice Liddell)", berlin("2026-06-01 17:00"), berlin("2026-06-02 09:00")),
        ("On call: Ops (dave)", berlin("2026-06-02 09:00"), berlin("2026-06-02 17:00")),
        ("On call: Ops (Alice Liddell)", berlin("2026-06-02 17:00"), berlin("2026-06-03 09:00")),
    ]
    assert events[-1].end == utc("2026-09-01 00:00")


def test_personal_feed_holds_the_owners_shifts_on_every_schedule(people, ops):
    other = Schedule.objects.create(name="Databases", time_zone="UTC")
    layer_make(schedule=other, members=[people["alice"], people["dave"]], unit="days", handoff=dt.time(0))
    feed, _ = calendar_feed_create(owner=people["alice"])
    name, events = calendar_feed_events(feed=feed, now=berlin("2026-06-15 12:00"))
    assert name == "On call: Alice Liddell"
    assert [(e.summary, e.start, e.end) for e in events[:4]] == [
        ("On call: Databases (Alice Liddell)", utc("2026-06-01 00:00"), utc("2026-06-02 00:00")),
        ("On call: Ops (Alice Liddell)", berlin("2026-06-01 17:00"), berlin("2026-06-02 09:00")),
        ("On call: Ops (Alice Liddell)", berlin("2026-06-02 17:00"), berlin("2026-06-03 09:00")),
        ("On call: Databases (Alice Liddell)", utc("2026-06-03 00:00"), utc("2026-06-04 00:00")),
    ]
    assert {e.summary for e in events} == {
        "On call: Databases (Alice Liddell)",
        "On call: Ops (Alice Liddell)",
    }


# --- the .ics over HTTP ----------------------------------------------------------------------------


def test_the_feed_url_serves_rfc5545_that_a_parser_reads(client, people):
    schedule = Schedule.objects.create(name="Réseau; nuit, «astreinte»", time_zone="UTC")
    layer_make(
        schedule=schedule, members=[people["alice"]], start_date=dt.date(2020, 1, 6), handoff=dt.time(0)
    )
    now = timezone.now()
    cover_start = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(10), tzinfo=dt.UTC)
    override_make(
        schedule=schedule,
        user=people["bob"],
        starts_at=cover_start,
        ends_at=cover_start + dt.timedelta(hours=2),
    )
    _, token = calendar_feed_create(owner=people["alice"], schedule=schedule)

    response = client.get(f"/oncall/feeds/{token}.ics")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "private" in response["Cache-Control"]
    body = response.content
    assert body.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")
    assert max(len(line) for line in body.split(b"\r\n")) <= 75
    range_start = dt.datetime.combine((now - dt.timedelta(days=14)).date(), dt.time(), tzinfo=dt.UTC)
    alice = "On call: Réseau; nuit, «astreinte» (Alice Liddell)"
    events = parse(body)
    assert [event[:3] for event in events] == [
        (alice, range_start, cover_start),
        ("On call: Réseau; nuit, «astreinte» (bob)", cover_start, cover_start + dt.timedelta(hours=2)),
        (alice, cover_start + dt.timedelta(hours=2), range_start + dt.timedelta(days=105)),
    ]
    assert len({event[3] for event in events}) == 3
    # UIDs stay the same from one fetch to the next, so calendar apps update rather than duplicate.
    assert [event[3] for event in parse(client.get(f"/oncall/feeds/{token}.ics").content)] == [
        e[3] for e in events
    ]
    stamp = icalendar.Calendar.from_ical(body).walk("VEVENT")[0].decoded("DTSTAMP")
    assert stamp.tzinfo is not None and abs(stamp - now) < dt.timedelta(minutes=5)


@pytest.mark.parametrize("state", ["unknown", "revoked"])
def test_unknown_or_revoked_feeds_are_a_bare_404(client, people, state):
    feed, token = calendar_feed_create(owner=people["alice"])
    if state == "revoked":
        calendar_feed_revoke(feed=feed, by=people["alice"])
    else:
        token = token[:-1] + ("A" if token[-1] != "A" else "B")
    response = client.get(f"/oncall/feeds/{token}.ics")
    assert response.status_code == 404
    assert response.content == b""


def test_the_feed_is_read_only(client, people):
    _, token = calendar_feed_create(owner=people["alice"])
    assert client.post(f"/oncall/feeds/{token}.ics").status_code == 405


def test_feed_tokens_never_reach_the_log(client, people, caplog):
    _, token = calendar_feed_create(owner=people["alice"])
    missing = "Z" * 43
    with caplog.at_level(logging.DEBUG):
        assert client.get(f"/oncall/feeds/{missing}.ics").status_code == 404
        assert client.post(f"/oncall/feeds/{token}.ics").status_code == 405
    assert token not in caplog.text and missing not in caplog.text
    assert f"/oncall/feeds/{'Z' * 8}….ics" in caplog.text
    assert f"/oncall/feeds/{token[:8]}….ics" in caplog.text


def test_the_development_server_log_is_redacted_too(people):
    _, token = calendar_feed_create(owner=people["alice"])
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    server_log = logging.getLogger("django.server")
    server_log.addHandler(handler)
    try:
        server_log.info('"%s" %s %s', f"GET /oncall/feeds/{token}.ics HTTP/1.1", "200", "512")
    finally:
        server_log.removeHandler(handler)
    assert [record.getMessage() for record in records] == [
        f'"GET /oncall/feeds/{token[:8]}….ics HTTP/1.1" 200 512'
    ]


# --- the writer ------------------------------------------------------------------------------------


def test_folding_never_splits_a_character():
    line = "SUMMARY:" + "é" * 100
    folded = fold(line)
    pieces = folded.split("\r\n ")
    assert "".join(pieces) == line
    assert all(len(piece.encode()) <= 75 for piece in pieces[:1])
    assert all(len(piece.encode()) <= 74 for piece in pieces[1:])


def test_text_is_escaped_and_read_back_unchanged():
    summary = 'On call: a\\b; c, d\nnew line "quoted"'
    body = calendar(
        name="x",
        events=[Event(uid="u1", start=utc("2026-06-01 09:00"), end=utc("2026-06-01 10:00"), summary=summary)],
        stamp=utc("2026-06-01 00:00"),
    )
    assert "SUMMARY:On call: a\\\\b\\; c\\, d\\nnew line" in body
    event = icalendar.Calendar.from_ical(body).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == summary
    assert plain_text("a\x01b\r\nc\rd\x1b[0m\x7f\te") == "ab\nc\nd[0m\te"


# --- the API ---------------------------------------------------------------------------------------


def test_api_creates_a_feed_and_shows_its_url_once(people, ops):
    api = client_for(people["alice"])
    response = api.post(FEEDS, {"schedule": ops.pk}, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["schedule_name"] == "Ops"
    url = created["url"]
    assert url.startswith("http") and url.endswith(".ics")
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert CalendarFeed.objects.get(pk=created["id"]).token_hash == calendar_feed_digest(token)
    listed = api.get(FEEDS)
    assert listed.status_code == 200
    assert token not in listed.content.decode() and "url" not in listed.json()["results"][0]


def test_api_lists_only_your_own_feeds_in_constant_queries(people, ops, django_assert_num_queries):
    for _ in range(3):
        calendar_feed_create(owner=people["alice"], schedule=ops)
        calendar_feed_create(owner=people["alice"])
    calendar_feed_create(owner=people["bob"])
    api = client_for(people["alice"])
    # The count, then the page with the schedules joined.
    with django_assert_num_queries(2):
        response = api.get(FEEDS)
    assert response.json()["count"] == 6


def test_api_revokes_own_feeds_only(people):
    mine, token = calendar_feed_create(owner=people["alice"])
    theirs, _ = calendar_feed_create(owner=people["bob"])
    api = client_for(people["alice"])
    response = api.post(f"{FEEDS}{mine.pk}/revoke/")
    assert response.status_code == 200 and response.json()["revoked_at"]
    assert api.post(f"{FEEDS}{mine.pk}/revoke/").status_code == 409
    assert api.post(f"{FEEDS}{theirs.pk}/revoke/").status_code == 404
    assert client_for(None).get(f"/oncall/feeds/{token}.ics").status_code == 404


@pytest.mark.parametrize(
    ("user", "body", "status"),
    [
        ("alice", {"schedule": 999999}, 400),
        ("alice", {"schedule": "ops; drop table"}, 400),
        ("carol", "ops", 403),
        (None, {}, None),
    ],
)
def test_api_bad_input(people, ops, user, body, status):
    api = client_for(people[user] if user else None)
    response = api.post(FEEDS, {"schedule": ops.pk} if body == "ops" else body, format="json")
    if user is None:
        assert response.status_code in (401, 403)
    else:
        assert response.status_code == status, response.json()
    assert not CalendarFeed.objects.exists()


# --- hostile input ---------------------------------------------------------------------------------


def test_hostile_values_are_refused_or_read_back_unchanged(client, people):
    api = client_for(people["alice"])
    for label, value in HOSTILE.items():
        response = api.post(FEEDS, {"schedule": value}, format="json")
        # An empty schedule is no schedule: the personal feed.
        assert response.status_code == (201 if value == "" else 400), label
        path = f"/oncall/feeds/{quote(value, safe='')}.ics"
        assert client.get(path).status_code == 404, label
    assert list(CalendarFeed.objects.values_list("schedule", flat=True)) == [None]

    # A schedule named anything (as the admin allows) comes back from the feed exactly.
    names = [value[:100] for value in HOSTILE.values() if "\x00" not in value]
    for number, name in enumerate(names):
        schedule = Schedule.objects.create(name=f"{number} {name}"[:100], time_zone="UTC")
        layer_make(schedule=schedule, members=[people["bob"]], start_date=dt.date(2020, 1, 6))
    _, token = calendar_feed_create(owner=people["bob"])
    body = client.get(f"/oncall/feeds/{token}.ics").content
    assert max(len(line) for line in body.split(b"\r\n")) <= 75
    summaries = {event[0] for event in parse(body)}
    # TEXT has no carriage returns or other control characters: line breaks come back as newlines.
    assert summaries == {plain_text(f"On call: {s.name} (bob)") for s in Schedule.objects.all()}
