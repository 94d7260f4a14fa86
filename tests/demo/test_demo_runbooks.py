"""seed_demo's runbooks and state captures: a runbook per demo service with steps linked to the
demo's actions, one for the demo alert rule, Health check capturing every service, and snapshots
requested for the alert-opened incidents only."""

from io import StringIO

import pytest
from django.core.management import call_command

from actions.choices import RunStatus
from actions.models import ActionRun, Runbook, RunbookVersion, ServiceCapture
from alerts.models import AlertRule
from demo.seed.alerting import ALERT_RULE
from incidents.choices import EventKind
from incidents.models import Incident, Service, TimelineEvent


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", "--no-history", stdout=out)
    return out.getvalue()


@pytest.fixture(autouse=True)
def debug(db, settings, tmp_path):
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    settings.WEB_PORT = 8000


def alert_opened() -> set[int]:
    events = TimelineEvent.objects.filter(
        kind=EventKind.CREATED, details__origin__in=["alertmanager", "grafana"]
    )
    return set(events.values_list("incident_id", flat=True))


def test_runbooks_captures_and_snapshots(settings):
    settings.ALLOW_LOCAL_PROVIDER = True

    out = seed()

    for service in Service.objects.all():
        (runbook,) = Runbook.objects.filter(service=service)
        actions = [s.action.template_key for s in runbook.steps.all() if s.action]
        assert actions == ["health-check", "log-collection", "service-restart"]
        assert RunbookVersion.objects.filter(runbook=runbook, number=1).exists()
        assert ServiceCapture.objects.get(service=service).action.template_key == "health-check"
    rule = AlertRule.objects.get(name=ALERT_RULE)
    assert rule.runbook is not None and rule.runbook.service is None
    endpoints = [s.parameters.get("endpoint", "") for s in rule.runbook.steps.all()]
    assert "http://{{ alert.labels.instance }}/admin/login/" in endpoints

    opened = alert_opened()
    assert len(opened) >= 3
    for incident in Incident.objects.all():
        runs = ActionRun.objects.filter(incident=incident, capture_service__isnull=False)
        if incident.pk in opened:
            assert {r.capture_service_id for r in runs} == set(incident.services.values_list("pk", flat=True))
            assert all(r.status == RunStatus.SCHEDULED and r.created_at == incident.detected_at for r in runs)
        else:
            assert not runs.exists()
    captures = ActionRun.objects.filter(capture_service__isnull=False).count()
    assert f"{captures} snapshots on the alert-opened incidents" in out

    before = (Runbook.objects.count(), ServiceCapture.objects.count(), ActionRun.objects.count())
    seed()
    assert (Runbook.objects.count(), ServiceCapture.objects.count(), ActionRun.objects.count()) == before


def test_without_local_providers_runbooks_have_no_actions_and_nothing_is_captured(settings):
    settings.ALLOW_LOCAL_PROVIDER = False

    seed()

    assert Runbook.objects.filter(service__isnull=False).count() == Service.objects.count()
    assert not Runbook.objects.filter(steps__action__isnull=False).exists()
    assert not ServiceCapture.objects.exists() and not ActionRun.objects.exists()
