"""A real Celery worker consumes from the configured broker (Redis in CI, files by default)."""

import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connections
from django.utils import timezone

from config.celery import app
from incidents.choices import EventKind
from incidents.models import Incident, TimelineEvent
from incidents.tasks import sweep_incident_sla


@pytest.fixture
def broker(tmp_path):
    """Keep this test's messages away from a running `make run` when on the filesystem broker."""
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        folder = str(tmp_path / "queue")
        (tmp_path / "queue").mkdir()
        original = app.conf.broker_transport_options
        app.conf.broker_transport_options = {
            **original,
            "data_folder_in": folder,
            "data_folder_out": folder,
            "control_folder": str(tmp_path),
        }
        yield
        app.conf.broker_transport_options = original
    else:
        yield


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_worker_runs_the_sla_sweep_sent_through_the_broker(broker, open_incident, priorities):
    incident = open_incident(priority=priorities["P1"])
    # Past its 15-minute response target without anyone acknowledging.
    Incident.objects.filter(pk=incident.pk).update(response_due_at=timezone.now() - timedelta(minutes=1))

    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        sweep_incident_sla.delay()
        deadline = time.monotonic() + 30
        breached = TimelineEvent.objects.filter(incident=incident, kind=EventKind.SLA_BREACHED)
        while not breached.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    connections.close_all()

    event = breached.get()
    assert event.details["target"] == "response"
    assert event.source == "task"
