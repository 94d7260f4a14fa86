"""The drills section of the analytics dashboard (plugged in through analytics.panels): completed
drills in the range with their four response times, and their trend."""

from datetime import timedelta

import pytest
from django.urls import reverse

from common.actor import Actor, Source
from drills.services import drill_run_cancel, drill_run_start, drill_runs_end_for_incident
from incidents.models import Incident
from incidents.services import incident_acknowledge, incident_resolve

pytestmark = pytest.mark.django_db


def completed_drill(scenario, responder, *, ack_minutes: int, resolve_minutes: int, name: str):
    by = Actor(user=responder, source=Source.ADMIN)
    run = drill_run_start(scenario=scenario(name=name), by=by)
    incident = incident_acknowledge(incident=run.incident, by=by)
    incident_resolve(incident=incident, by=by, summary="Done.")
    drill_runs_end_for_incident(incident_id=incident.pk)
    created = Incident.objects.get(pk=incident.pk).created_at
    Incident.objects.filter(pk=incident.pk).update(
        acknowledged_at=created + timedelta(minutes=ack_minutes),
        resolved_at=created + timedelta(minutes=resolve_minutes),
    )
    return run


def test_the_dashboard_shows_completed_drills_with_their_response_times(client, viewer, responder, scenario):
    completed_drill(scenario, responder, ack_minutes=6, resolve_minutes=47, name="Disk full")
    completed_drill(scenario, responder, ack_minutes=3, resolve_minutes=21, name="Memory pressure")
    by = Actor(user=responder, source=Source.ADMIN)
    drill_run_cancel(run=drill_run_start(scenario=scenario(name="Cancelled one"), by=by), by=by)
    client.force_login(viewer)

    response = client.get(reverse("analytics_dashboard:index"))

    html = response.content.decode()
    section = html[html.index('id="drills"') :]
    assert "Drills: response times" in section
    assert "Disk full" in section and "Memory pressure" in section and "Cancelled one" not in section
    assert "<td>6 min</td>" in section and "<td>47 min</td>" in section and "<td>21 min</td>" in section
    assert "Time to resolve across drills" in section and "<svg" in section


def test_without_drills_the_section_says_so(client, viewer):
    client.force_login(viewer)
    html = client.get(reverse("analytics_dashboard:index")).content.decode()
    assert "No drill completed in this range." in html
