"""generate_history: a consistent, deterministic synthetic history that --clear takes back."""

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F, Max

from actions.choices import RunStatus
from actions.models import ActionRun
from alerts.models import Alert
from demo.history import MARKER, history_incidents
from incidents.choices import IncidentStatus, ServiceType
from incidents.models import Incident, IncidentSequence, Service, TimelineEvent
from postmortems.choices import POSTMORTEM_PRIORITIES, ActionItemStatus, PostmortemStatus
from postmortems.models import ActionItem, Postmortem

S = IncidentStatus
END = "2026-06-30"
END_AT = datetime(2026, 7, 1, tzinfo=UTC)


def generate(**options) -> str:
    out = StringIO()
    options.setdefault("end", END)
    args = [f"--{k.replace('_', '-')}={v}" for k, v in options.items() if v is not True]
    args += [f"--{k}" for k, v in options.items() if v is True]
    call_command("generate_history", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def history(db):
    out = generate(incidents=1000, months=12, seed=3)
    return out


def test_prints_what_it_made(history):
    assert re.match(r"Generated history over 12 months: 1000 incidents \(\d+ auto-resolved, ", history)
    assert history_incidents().count() == 1000


def test_timestamps_are_in_order_and_in_the_past(history):
    fields = ["started_at", "detected_at", "acknowledged_at", "resolved_at", "closed_at"]
    for row in Incident.objects.values(*fields, "status", "response_due_at", "priority__response_target"):
        stamps = [row[f] for f in fields if row[f] is not None]
        assert stamps == sorted(stamps), row
        assert stamps[-1] < END_AT
        assert row["status"] in (S.RESOLVED, S.CLOSED)
        if row["priority__response_target"]:
            assert row["response_due_at"] == row["detected_at"] + row["priority__response_target"]
    oldest = Incident.objects.order_by("detected_at").first().detected_at
    assert END_AT - timedelta(days=370) <= oldest


def test_references_unique_and_the_sequence_continues(history, open_incident):
    references = list(Incident.objects.values_list("reference", flat=True))
    assert len(set(references)) == len(references)
    by_year = Counter()
    for reference in references:
        year, number = re.fullmatch(r"INC-(\d{4})-(\d{4,})", reference).groups()
        by_year[int(year)] = max(by_year[int(year)], int(number))
    assert dict(IncidentSequence.objects.values_list("year", "last_number")) == dict(by_year)
    # Numbered in detection order within each year.
    for year in by_year:
        in_year = Incident.objects.filter(reference__startswith=f"INC-{year}-").order_by("detected_at", "id")
        numbers = [int(r.rsplit("-", 1)[1]) for r in in_year.values_list("reference", flat=True)]
        assert numbers == list(range(1, len(numbers) + 1))

    mine = open_incident(detected_at=datetime(2026, 7, 1, 9, tzinfo=UTC))
    assert mine.reference == f"INC-2026-{by_year[2026] + 1:04d}"


def test_deterministic_with_a_seed(db):
    def snapshot():
        return list(
            history_incidents()
            .order_by("detected_at", "reference")
            .values_list(
                "reference",
                "title",
                "priority__code",
                "status",
                "detected_at",
                "acknowledged_at",
                "resolved_at",
                "closed_at",
                "root_cause_category",
                "auto_resolved",
                "reopen_count",
            )
        )

    generate(incidents=300, months=6, seed=11)
    first = snapshot()
    alerts = sorted(Alert.objects.values_list("name", "fingerprint", "received_at"))
    generate(incidents=0, clear=True)
    IncidentSequence.objects.all().delete()  # So the references can match too.
    generate(incidents=300, months=6, seed=11)
    assert snapshot() == first
    assert sorted(Alert.objects.values_list("name", "fingerprint", "received_at")) == alerts
    generate(incidents=0, clear=True)
    IncidentSequence.objects.all().delete()
    generate(incidents=300, months=6, seed=12)
    assert snapshot() != first


def test_clear_removes_only_generated_rows(db, open_incident):
    mine = open_incident()
    generate(incidents=500, months=6, seed=5)
    assert Postmortem.objects.exists() and ActionRun.objects.exists() and Alert.objects.exists()
    services = Service.objects.count()

    out = generate(incidents=0, clear=True)

    assert out.startswith("Removed generated history: 500 incidents, ")
    assert list(Incident.objects.all()) == [mine]
    assert not Alert.objects.exists()
    assert not ActionRun.objects.exists()
    assert not Postmortem.objects.exists() and not ActionItem.objects.exists()
    assert set(TimelineEvent.objects.values_list("incident_id", flat=True)) == {mine.pk}
    assert Service.objects.count() == services  # The catalog stays.
    assert MARKER not in mine.description


def test_the_mix_is_realistic(history):
    incidents = history_incidents()
    total = incidents.count()
    assert 0.015 * total <= incidents.filter(is_drill=True).count() <= 0.05 * total
    assert 0.03 * total <= incidents.filter(reopen_count__gt=0).count() <= 0.08 * total
    assert not incidents.filter(reopen_count__gt=0, auto_resolved=True).exists()
    priorities = Counter(incidents.values_list("priority__code", flat=True))
    assert priorities["P1"] < priorities["P2"] < priorities["P3"] and priorities["P1"] < priorities["P4"]
    assert set(incidents.values_list("services__type", flat=True)) == set(ServiceType)
    # Some responses miss their target, most do not.
    acked = incidents.exclude(acknowledged_at=None).exclude(response_due_at=None)
    late = acked.filter(acknowledged_at__gt=F("response_due_at"))
    assert 0.03 < late.count() / acked.count() < 0.3
    assert late.filter(response_breached_at=F("response_due_at")).count() == late.count()
    assert not acked.filter(acknowledged_at__lte=F("response_due_at")).exclude(response_breached_at=None)
    # Most incidents came with alerts, one of them the alert that opened it.
    with_alerts = incidents.filter(alerts__opened_incident=True).distinct().count()
    assert with_alerts > 0.8 * total
    assert Alert.objects.filter(received_at__lt=F("incident__detected_at")).count() == 0


def test_auto_resolved_only_with_a_succeeded_automated_run(history):
    auto = history_incidents().filter(auto_resolved=True)
    assert auto.count() > 0.05 * history_incidents().count()
    assert not auto.exclude(acknowledged_at=None).exists()
    for incident in auto.prefetch_related("action_runs"):
        runs = list(incident.action_runs.all())
        assert any(r.status == RunStatus.SUCCEEDED and r.finished_at <= incident.resolved_at for r in runs)
    assert ActionRun.objects.filter(status=RunStatus.FAILED).exists()


def test_the_team_gets_faster(history):
    resolved = history_incidents().filter(is_drill=False, auto_resolved=False).exclude(resolved_at=None)
    first = resolved.filter(detected_at__lt=END_AT - timedelta(days=270))
    last = resolved.filter(detected_at__gte=END_AT - timedelta(days=90))

    def mean_minutes(qs):
        rows = qs.values_list("detected_at", "resolved_at", "priority__code")
        p3 = [(r - d).total_seconds() / 60 for d, r, code in rows if code == "P3"]
        return sum(p3) / len(p3)

    assert mean_minutes(last) < 0.8 * mean_minutes(first)


def test_postmortems_follow_the_rules(history):
    closed = history_incidents().filter(status=S.CLOSED, priority__code__in=POSTMORTEM_PRIORITIES)
    assert closed.exists()
    assert not closed.exclude(
        postmortem__status__in=[PostmortemStatus.IN_REVIEW, PostmortemStatus.PUBLISHED]
    ).exists()
    resolved = history_incidents().filter(priority__code__in=POSTMORTEM_PRIORITIES).exclude(resolved_at=None)
    assert not resolved.filter(is_drill=False, postmortem=None).exists()
    statuses = Counter(Postmortem.objects.values_list("status", flat=True))
    assert statuses[PostmortemStatus.PUBLISHED] > statuses[PostmortemStatus.DRAFT] > 0
    assert not Postmortem.objects.filter(created_at__lt=F("incident__resolved_at")).exists()
    items = ActionItem.objects.all()
    overdue = items.filter(
        status__in=[ActionItemStatus.OPEN, ActionItemStatus.IN_PROGRESS], due_date__lt=END_AT.date()
    )
    assert overdue.exists() and items.filter(status=ActionItemStatus.DONE).exists()
    assert not items.filter(status=ActionItemStatus.DONE, completed_at=None).exists()


def test_timestamps_are_historical_not_now(history):
    assert not history_incidents().exclude(created_at=F("detected_at")).exists()
    assert Alert.objects.aggregate(latest=Max("created_at"))["latest"] < END_AT
    assert Postmortem.objects.aggregate(latest=Max("created_at"))["latest"] < END_AT


class TestSeedDemo:
    @pytest.fixture(autouse=True)
    def debug(self, db, settings, tmp_path):
        settings.DEBUG = True
        settings.VAR_DIR = tmp_path
        settings.WEB_PORT = 8000  # Whatever PORT the test run was started with.

    def seed(self, *args) -> str:
        out = StringIO()
        call_command("seed_demo", *args, stdout=out)
        return out.getvalue()

    def test_loads_a_modest_history_once(self):
        out = self.seed()
        assert "History: 300 generated incidents over 12 months" in out
        assert history_incidents().count() == 300
        assert Incident.objects.count() == 309  # And the 8 demo incidents and the demo drill's.
        again = self.seed()
        assert "History: 300 generated incidents already present." in again
        assert history_incidents().count() == 300

    def test_no_history(self):
        out = self.seed("--no-history")
        assert "History: none loaded" in out
        assert not history_incidents().exists()
