"""A real Celery worker consumes from the configured broker (Redis in CI, files by default)."""

import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connections
from django.utils import timezone

from alerts.tasks import process_alerts
from config.celery import app
from incidents.choices import EventKind
from incidents.models import Incident, TimelineEvent
from incidents.tasks import sweep_incident_sla
from tests.conftest import celery_broker

STORM_BACKLOG = 200


@pytest.fixture
def broker(tmp_path):
    """The real broker for this test (the suite otherwise uses memory://, see tests/conftest.py);
    on the filesystem broker, a folder of its own, away from a running `make run`."""
    options = (
        dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
        if hasattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS")
        else {}
    )
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        (tmp_path / "queue").mkdir()
        folder = str(tmp_path / "queue")
        options.update(data_folder_in=folder, data_folder_out=folder, control_folder=str(tmp_path))
    with celery_broker(settings.CELERY_BROKER_URL, options):
        yield


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_periodic_worker_runs_the_sla_sweep_during_a_storm(broker, open_incident, priorities):
    incident = open_incident(priority=priorities["P1"])
    # Past its 15-minute response target without anyone acknowledging.
    Incident.objects.filter(pk=incident.pk).update(response_due_at=timezone.now() - timedelta(minutes=1))

    # An alert storm's backlog on `default`; the sweep goes to the periodic queue, which a worker of
    # its own consumes (README: production), so the backlog does not hold it back.
    for _ in range(STORM_BACKLOG):
        process_alerts.delay(alert_ids=[0])
    with start_worker(
        app, pool="solo", perform_ping_check=False, loglevel="WARNING", queues=[settings.PERIODIC_QUEUE]
    ):
        sweep_incident_sla.delay()
        deadline = time.monotonic() + 30
        breached = TimelineEvent.objects.filter(incident=incident, kind=EventKind.SLA_BREACHED)
        while not breached.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    connections.close_all()

    event = breached.get()
    assert event.details["target"] == "response"
    assert event.source == "task"
