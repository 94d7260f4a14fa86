"""Triage phases of a new incident (triage -> prioritized), set and shown like the work phases:
through the same services, with the same timeline events, in the admin and the API; acknowledging
and dismissing leave them consistently."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from incidents.choices import EventKind, IncidentStatus, Phase
from incidents.models import Incident, StatusUpdate
from incidents.services import (
    incident_acknowledge,
    incident_auto_resolve,
    incident_dismiss,
    incident_update,
    status_update_create,
)
from tests.admin_support import form_data
from tests.incidents.api_support import client_for, incidents_url
from tests.incidents.support import AUTOMATION, events, snapshot

pytestmark = pytest.mark.django_db


def change_url(incident) -> str:
    return reverse("admin:incidents_incident_change", args=[incident.pk])


def test_a_new_incident_opens_in_triage(open_incident):
    incident = open_incident()
    assert Incident.objects.get(pk=incident.pk).phase == Phase.TRIAGE
    [created] = events(incident, EventKind.CREATED)
    assert created.details["phase"] == Phase.TRIAGE


def test_prioritizing_is_a_phase_change_on_the_timeline(open_incident, actor):
    incident = open_incident()

    incident_update(incident=incident, by=actor, changes={"phase": Phase.PRIORITIZED})

    assert Incident.objects.get(pk=incident.pk).phase == Phase.PRIORITIZED
    [event] = events(incident, EventKind.PHASE_CHANGED)
    assert event.details == {"field": "phase", "from": Phase.TRIAGE, "to": Phase.PRIORITIZED}
    assert event.message == "Phase changed from triage to prioritized."


def test_a_status_update_may_move_a_new_incident_to_prioritized(open_incident, actor):
    incident = open_incident()

    update = status_update_create(
        incident=incident, by=actor, message="P2 confirmed", phase=Phase.PRIORITIZED
    )

    assert update.phase == Phase.PRIORITIZED
    assert Incident.objects.get(pk=incident.pk).phase == Phase.PRIORITIZED
    assert [e.details["to"] for e in events(incident, EventKind.PHASE_CHANGED)] == [Phase.PRIORITIZED]


@pytest.mark.parametrize("phase", [Phase.INVESTIGATING, Phase.IDENTIFIED, Phase.FIXING, Phase.MONITORING])
def test_a_new_incident_refuses_work_phases(open_incident, actor, phase):
    incident = open_incident()
    before = snapshot(incident)
    with pytest.raises(ValidationError) as exc:
        incident_update(incident=incident, by=actor, changes={"phase": phase})
    assert "acknowledged" in exc.value.message_dict["phase"][0]
    with pytest.raises(ValidationError):
        status_update_create(incident=incident, by=actor, message="Found it", phase=phase)
    assert snapshot(incident) == before


@pytest.mark.parametrize("phase", [Phase.TRIAGE, Phase.PRIORITIZED])
def test_a_worked_incident_refuses_triage_phases(open_incident, actor, phase):
    incident = incident_acknowledge(incident=open_incident(), by=actor)
    before = snapshot(incident)
    with pytest.raises(ValidationError) as exc:
        incident_update(incident=incident, by=actor, changes={"phase": phase})
    assert "only to a new incident" in exc.value.message_dict["phase"][0]
    assert snapshot(incident) == before


@pytest.mark.parametrize("phase", [Phase.TRIAGE, Phase.PRIORITIZED])
def test_acknowledging_leaves_triage_for_investigating(open_incident, actor, phase):
    incident = open_incident()
    if phase == Phase.PRIORITIZED:
        incident = incident_update(incident=incident, by=actor, changes={"phase": phase})

    incident = incident_acknowledge(incident=incident, by=actor)

    assert Incident.objects.get(pk=incident.pk).phase == Phase.INVESTIGATING
    [event] = events(incident, EventKind.ACKNOWLEDGED)
    assert event.details["phase"] == {"from": phase, "to": Phase.INVESTIGATING}


def test_dismissing_clears_the_triage_phase(open_incident, actor):
    incident = incident_update(incident=open_incident(), by=actor, changes={"phase": Phase.PRIORITIZED})

    incident_dismiss(incident=incident, by=actor, reason="Flapping check")

    assert Incident.objects.get(pk=incident.pk).phase == ""
    [event] = events(incident, EventKind.DISMISSED)
    assert event.details["phase"] == {"from": Phase.PRIORITIZED, "to": ""}


def test_auto_resolving_a_new_incident_clears_the_triage_phase(open_incident):
    incident = open_incident()

    incident_auto_resolve(incident=incident, by=AUTOMATION, summary="Alert cleared")

    assert Incident.objects.get(pk=incident.pk).phase == ""
    [event] = events(incident, EventKind.AUTO_RESOLVED)
    assert event.details["phase"] == {"from": Phase.TRIAGE, "to": ""}


# --- API ---------------------------------------------------------------------------------------------


def test_api_shows_and_sets_the_triage_phase(open_incident, responder):
    incident = open_incident()
    api = client_for(responder)
    assert api.get(incidents_url(incident)).data["phase"] == "triage"

    response = api.patch(incidents_url(incident), {"phase": "prioritized"})

    assert response.status_code == 200
    assert response.data["phase"] == "prioritized"
    listed = api.get(incidents_url(), {"status": "new"}).data["results"]
    assert [row["phase"] for row in listed] == ["prioritized"]


def test_api_refuses_a_triage_phase_once_worked(open_incident, responder, actor):
    incident = incident_acknowledge(incident=open_incident(), by=actor)
    response = client_for(responder).patch(incidents_url(incident), {"phase": "triage"})
    assert response.status_code == 400
    assert "phase" in response.data
    assert Incident.objects.get(pk=incident.pk).phase == Phase.INVESTIGATING


def test_api_status_update_with_a_triage_phase(open_incident, responder):
    incident = open_incident()
    response = client_for(responder).post(
        incidents_url(incident, "status-updates"), {"message": "Confirmed", "phase": "prioritized"}
    )
    assert response.status_code == 201
    assert response.data["phase"] == "prioritized"


# --- Admin -------------------------------------------------------------------------------------------


def _phase_choices(page) -> list[str]:
    return [value for value, _ in page.context["adminform"].form.fields["phase"].choices if value]


def test_admin_offers_the_phases_of_the_status(client, responder, open_incident, actor):
    client.force_login(responder)
    incident = open_incident()
    assert _phase_choices(client.get(change_url(incident))) == ["triage", "prioritized"]

    incident = incident_acknowledge(incident=incident, by=actor)
    assert _phase_choices(client.get(change_url(incident))) == [
        "investigating",
        "identified",
        "fixing",
        "monitoring",
    ]


def test_admin_prioritizes_a_new_incident(client, responder, open_incident):
    incident = open_incident()
    client.force_login(responder)
    page = client.get(change_url(incident))

    response = client.post(change_url(incident), form_data(page, phase="prioritized"))

    assert response.status_code == 302
    assert Incident.objects.get(pk=incident.pk).phase == Phase.PRIORITIZED
    assert [e.details["to"] for e in events(incident, EventKind.PHASE_CHANGED)] == [Phase.PRIORITIZED]


def test_admin_list_shows_and_filters_by_phase(client, responder, open_incident, actor):
    triaged = open_incident(title="Still in triage")
    worked = incident_acknowledge(incident=open_incident(title="Being worked"), by=actor)
    client.force_login(responder)
    url = reverse("admin:incidents_incident_changelist")

    response = client.get(url, {"phase__exact": "triage"})

    assert [i.pk for i in response.context["cl"].result_list] == [triaged.pk]
    assert "Triage" in response.content.decode()
    response = client.get(url, {"phase__exact": "investigating"})
    assert [i.pk for i in response.context["cl"].result_list] == [worked.pk]


def test_migration_puts_new_incidents_without_a_phase_in_triage(open_incident, actor):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("incidents.migrations.0011_timeline_pins_and_triage_phases")
    legacy = open_incident(title="From before triage phases")
    worked = incident_acknowledge(incident=open_incident(title="Worked"), by=actor)
    Incident.objects.filter(pk=legacy.pk).update(phase="")

    migration.new_incidents_in_triage(apps, None)

    assert Incident.objects.get(pk=legacy.pk).phase == Phase.TRIAGE
    assert Incident.objects.get(pk=worked.pk).phase == Phase.INVESTIGATING
    assert Incident.objects.get(pk=worked.pk).status == IncidentStatus.IN_PROGRESS
    assert not StatusUpdate.objects.exists()
