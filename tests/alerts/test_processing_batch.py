"""Processing a message's alerts together (alerts.services.processing._batch_process): one batch
mixing joins, new incidents and resolves does what one alert at a time did; a repeated task changes
nothing; joins cost a constant number of queries whatever their number."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.models import Alert
from alerts.services.processing import _alerts_lock
from alerts.tasks import process_alerts
from analytics.models import IncidentRollupMember
from incidents.choices import EventKind
from incidents.models import Incident, IncidentSequence, TimelineEvent
from tests.alerts.support import am_alert, am_payload, fire, ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def rules(rule):
    """Team a's alerts join the open incident of their alertname; team b's open one each."""
    rule(
        "Team a",
        matchers=[{"label": "team", "op": "eq", "value": "a"}],
        incident_policy="attach",
        group_by=["alertname"],
    )
    rule("Team b", matchers=[{"label": "team", "op": "eq", "value": "b"}], incident_policy="create")


def attached(alert: Alert) -> list[int]:
    return list(
        TimelineEvent.objects.filter(kind=EventKind.ALERT_ATTACHED, details__alert=alert.pk).values_list(
            "incident_id", flat=True
        )
    )


def test_a_batch_mixing_joins_new_incidents_and_resolves(source, rules):
    (open_a,) = fire(source, am_alert("Down", fingerprint="a0", team="a"))
    (open_b,) = fire(source, am_alert("Slow", fingerprint="b0", team="b"))
    before = Incident.objects.count()

    stored = ingest(
        source,
        am_payload(
            am_alert("Down", fingerprint="a1", team="a"),  # joins open_a's incident
            am_alert("Full", fingerprint="n1", team="a"),  # a new group: opens an incident
            am_alert("Full", fingerprint="n2", team="a"),  # ...which its group's next alert joins
            am_alert("Slow", fingerprint="b1", team="b"),  # opens its own
            am_alert("Slow", fingerprint="b2", team="b"),  # opens its own
            am_alert("Slow", status="resolved", fingerprint="b0", team="b"),  # resolves open_b
            am_alert("Quiet", fingerprint="x1", team="c"),  # no rule
            am_alert("Down", fingerprint="a2", team="a"),  # joins open_a's incident too
        ),
    )
    assert process_alerts(alert_ids=[a.pk for a in stored]) == len(stored)

    got = {a.fingerprint: a for a in Alert.objects.filter(pk__in=[a.pk for a in stored])}
    assert all(a.processed and a.processing_attempts == 0 for a in got.values())
    assert got["a1"].incident == got["a2"].incident == open_a.incident
    assert not got["a1"].opened_incident and not got["a2"].opened_incident
    assert got["n1"].opened_incident and got["n2"].incident == got["n1"].incident
    assert not got["n2"].opened_incident
    assert got["b1"].opened_incident and got["b2"].opened_incident
    assert len({got["b1"].incident_id, got["b2"].incident_id, open_b.incident_id}) == 3
    assert got["x1"].incident is None and "No rule matched" in got["x1"].notes[-1]
    assert Incident.objects.count() == before + 3  # n1's, b1's and b2's
    # One "attached" event per firing alert, on its own incident; the resolve recorded on open_b's.
    for fingerprint in ("a1", "a2", "n1", "n2", "b1", "b2"):
        assert attached(got[fingerprint]) == [got[fingerprint].incident_id]
    resolved = TimelineEvent.objects.filter(kind=EventKind.ALERT_RESOLVED, incident=open_b.incident)
    assert [e.details["fingerprint"] for e in resolved] == ["b0"]
    joined = open_a.incident.timeline_events.filter(kind=EventKind.ALERT_ATTACHED).order_by("id")
    assert [e.details["fingerprint"] for e in joined] == ["a0", "a1", "a2"]


def test_a_repeated_task_changes_nothing(source, rules, django_capture_on_commit_callbacks):
    stored = ingest(
        source,
        am_payload(
            am_alert("Down", fingerprint="a1", team="a"),
            am_alert("Down", fingerprint="a2", team="a"),
            am_alert("Slow", fingerprint="b1", team="b"),
        ),
    )
    ids = [a.pk for a in stored]
    assert process_alerts(alert_ids=ids) == 3
    events = TimelineEvent.objects.count()
    rows = list(Alert.objects.order_by("pk").values())

    with django_capture_on_commit_callbacks() as callbacks:
        assert process_alerts(alert_ids=ids) == 0

    assert Incident.objects.count() == 2
    assert TimelineEvent.objects.count() == events
    assert list(Alert.objects.order_by("pk").values()) == rows
    assert callbacks == []  # and nothing enqueued: no notification twice


def test_joins_cost_the_same_queries_whatever_their_number(source, rules):
    fire(source, am_alert("Down", fingerprint="first", team="a"))

    def queries(count: int, prefix: str) -> int:
        stored = ingest(
            source,
            am_payload(*(am_alert("Down", fingerprint=f"{prefix}{i}", team="a") for i in range(count))),
        )
        with CaptureQueriesContext(connection) as captured:
            assert process_alerts(alert_ids=[a.pk for a in stored]) == count
        return len(captured)

    assert queries(3, "few") == queries(30, "many")
    assert Incident.objects.count() == 1
    assert TimelineEvent.objects.filter(kind=EventKind.ALERT_ATTACHED).count() == 34


RULE_LOCK = 'SELECT "alerts_alertrule"."id" AS "pk" FROM "alerts_alertrule" WHERE'


def test_joins_take_no_rule_lock_and_openers_do(source, rules):
    """A group with an open incident is joined as it is; only a group that may need an incident
    opened locks its rule (two batches must not both open one), then looks again under the lock."""
    fire(source, am_alert("Down", fingerprint="first", team="a"))

    def process(*alerts) -> list[str]:
        stored = ingest(source, am_payload(*alerts))
        with CaptureQueriesContext(connection) as captured:
            assert process_alerts(alert_ids=[a.pk for a in stored]) == len(stored)
        return [query["sql"] for query in captured if query["sql"].startswith(RULE_LOCK)]

    assert process(*(am_alert("Down", fingerprint=f"join{i}", team="a") for i in range(3))) == []
    [lock] = process(
        am_alert("Down", fingerprint="join-more", team="a"), am_alert("Full", fingerprint="new", team="a")
    )
    if connection.features.has_select_for_update:
        # Not FOR UPDATE: the foreign-key checks of another opener's commit must not wait for it.
        assert "FOR NO KEY UPDATE" in lock
    assert Alert.objects.get(fingerprint="new").opened_incident
    assert Incident.objects.count() == 2


REPEAT_CHECK = 'FROM "incidents_incident" INNER JOIN "alerts_alert"'  # incident_repeat_of's


def test_joins_check_for_a_repeat_only_when_their_incident_has_services(source, rule, service_factory):
    """A precedent shares a service (incidents.services.repeats): joining an incident without any
    makes no repeat check; joining one with a service still makes one per batch."""
    rule("Plain", matchers=[{"label": "team", "op": "eq", "value": "a"}], incident_policy="attach")
    rule(
        "Web",
        matchers=[{"label": "team", "op": "eq", "value": "w"}],
        incident_policy="attach",
        service=service_factory(name="Web"),
    )

    def repeat_checks(team: str, prefix: str) -> int:
        stored = ingest(
            source, am_payload(*(am_alert("Down", fingerprint=f"{prefix}{i}", team=team) for i in range(3)))
        )
        with CaptureQueriesContext(connection) as captured:
            assert process_alerts(alert_ids=[a.pk for a in stored]) == 3
        return sum(REPEAT_CHECK in query["sql"] for query in captured)

    fire(source, am_alert("Down", fingerprint="a-first", team="a"))
    fire(source, am_alert("Down", fingerprint="w-first", team="w"))
    assert repeat_checks("a", "a-join") == 0
    assert repeat_checks("w", "w-join") == 1


def test_a_batch_that_fails_is_processed_one_by_one(source, rules, monkeypatch):
    """The batch rolls back as a whole; one at a time, the good alerts go through and the bad one
    counts a failed attempt for the sweeper."""
    import alerts.services.processing as processing

    real = processing._process_firing

    def flaky(alert, plan, batch):
        if alert.fingerprint == "bad":
            raise RuntimeError("boom")
        real(alert, plan, batch)

    monkeypatch.setattr(processing, "_process_firing", flaky)
    good, bad, other = ingest(
        source,
        am_payload(
            am_alert("Down", fingerprint="good", team="a"),
            am_alert("Down", fingerprint="bad", team="a"),
            am_alert("Slow", fingerprint="other", team="b"),
        ),
    )
    assert process_alerts(alert_ids=[good.pk, bad.pk, other.pk]) == 2
    bad.refresh_from_db()
    assert not bad.processed and bad.incident is None and bad.processing_attempts == 1
    assert Incident.objects.count() == 2
    assert TimelineEvent.objects.filter(kind=EventKind.ALERT_ATTACHED).count() == 2


def test_a_batch_numbers_its_new_incidents_and_keeps_their_rollups_once_at_its_end(source, rules):
    """The incidents a batch opens are numbered together after its other writes (the sequence row
    that serializes openers is locked only then), in the order of their alerts, and their rollups
    are refreshed once; the notes name the numbers."""
    IncidentSequence.objects.create(
        year=timezone.localtime().year, last_number=0
    )  # Not the first of its year.
    stored = ingest(
        source,
        am_payload(
            am_alert("Slow", fingerprint="b1", team="b"),  # opens its own
            am_alert("Full", fingerprint="n1", team="a"),  # a new group: opens an incident
            am_alert("Slow", fingerprint="b2", team="b"),  # opens its own
            am_alert("Full", fingerprint="n2", team="a"),  # joins n1's, opened in this batch
        ),
    )
    with CaptureQueriesContext(connection) as captured:
        assert process_alerts(alert_ids=[a.pk for a in stored]) == 4

    got = {
        a.fingerprint: a
        for a in Alert.objects.filter(pk__in=[a.pk for a in stored]).select_related("incident")
    }
    year = got["b1"].incident.detected_at.year
    openers = sorted((got[f] for f in ("b1", "n1", "b2")), key=lambda alert: alert.pk)
    assert [a.incident.reference for a in openers] == [f"INC-{year}-{n:04d}" for n in (1, 2, 3)]
    assert got["n2"].incident == got["n1"].incident
    for alert in openers:
        team = alert.labels["team"]
        assert alert.notes[-1].endswith(f"Opened {alert.incident.reference} (Team {team}).")
    joined = f"Joined {got['n1'].incident.reference}, open for group {got['n2'].group_key}."
    assert got["n2"].notes[-1].endswith(joined)
    assert IncidentSequence.objects.get(year=year).last_number == 3
    sql = [q["sql"] for q in captured]
    assert sum('UPDATE "incidents_incidentsequence"' in s for s in sql) == 1
    assert sum('WHERE "analytics_incidentrollupmember"."incident_id" IN' in s for s in sql) == 1
    assert (
        IncidentRollupMember.objects.filter(
            incident__in=[got[f].incident for f in ("b1", "n1", "b2")]
        ).count()
        == 3
    )


def test_the_locking_read_gives_what_the_queryset_gave(
    source, rules, service_factory, django_assert_num_queries
):
    """alerts.services.processing._alerts_lock, one hand-written SELECT: the batch's unprocessed
    alerts in id order, every field as the ORM reads it, with their source, service and incident
    loaded (no query to reach them), none for an alert without them."""
    (done,) = fire(source, am_alert("Down", fingerprint="a0", team="a"))
    stored = ingest(
        source,
        am_payload(
            am_alert("Slow", fingerprint="b1", team="b"), am_alert("Quiet", fingerprint="x1", team="c")
        ),
    )
    service = service_factory()
    Alert.objects.filter(fingerprint="x1").update(service=service, incident=done.incident)
    ids = [stored[1].pk, done.pk, stored[0].pk]

    with transaction.atomic():
        locked = _alerts_lock(ids)
        expected = list(
            Alert.objects.select_related("source", "service", "incident")
            .filter(pk__in=ids, processed=False)
            .order_by("pk")
        )
        assert [a.pk for a in locked] == [a.pk for a in expected] == sorted(a.pk for a in stored)
        with django_assert_num_queries(0):
            for got, want in zip(locked, expected, strict=True):
                for field in Alert._meta.concrete_fields:
                    assert getattr(got, field.attname) == getattr(want, field.attname), field.name
                assert (
                    got.source.slug == want.source.slug and got.source.hmac_secret == want.source.hmac_secret
                )
                assert got.service == want.service and got.incident == want.incident
    x1 = next(a for a in locked if a.fingerprint == "x1")
    assert (x1.service, x1.incident) == (service, done.incident)
    b1 = next(a for a in locked if a.fingerprint == "b1")
    assert (b1.service, b1.incident) == (None, None)
