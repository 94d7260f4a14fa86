"""What may change once an incident is resolved (issue 10, items 10 and 14). The post-incident work
(description, root cause, impact) goes on; the work phase is over; and the priority may still be
corrected, but the P1/P2 post-mortem rule follows the most urgent priority held since resolution,
so lowering it after the fact does not let the incident close without its post-mortem."""

import importlib

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError

from common.exceptions import TransitionNotAllowedError
from incidents import guards
from incidents.choices import EventKind, IncidentStatus, Phase, RootCauseCategory
from incidents.models import Incident
from incidents.services import (
    incident_acknowledge,
    incident_close,
    incident_reopen,
    incident_resolve,
    incident_update,
)
from postmortems.models import Postmortem
from postmortems.services import postmortem_drafts_sweep
from tests.incidents.api_support import client_for, incidents_url
from tests.incidents.support import events, postmortem_ready, snapshot

S = IncidentStatus
pytestmark = pytest.mark.django_db


@pytest.fixture
def resolved(open_incident, actor, priorities):
    def make(code: str = "P1") -> Incident:
        incident = incident_acknowledge(incident=open_incident(priority=priorities[code]), by=actor)
        return incident_resolve(incident=incident, by=actor, summary="Rolled back release 42")

    return make


def refused_close_message(incident: Incident, by) -> str:
    with pytest.raises(TransitionNotAllowedError) as exc:
        incident_close(incident=Incident.objects.get(pk=incident.pk), by=by)
    assert Incident.objects.get(pk=incident.pk).status == S.RESOLVED
    return exc.value.message


# --- Item 10: the P1/P2 rule survives priority changes after resolution -----------------------


def test_a_resolved_p1_lowered_to_p3_still_needs_its_postmortem_to_close(resolved, actor, priorities):
    incident = resolved("P1")

    incident = incident_update(incident=incident, by=actor, changes={"priority": priorities["P3"]})

    assert (incident.priority.code, incident.peak_priority, incident.closing_priority) == ("P3", "P1", "P1")
    event = events(incident, EventKind.PRIORITY_CHANGED)[-1]
    assert event.details == {
        "field": "priority",
        "from": "P1",
        "to": "P3",
        "status": S.RESOLVED,
        "peak_priority": "P1",
    }
    assert event.message == (
        "Priority changed from P1 to P3. It was P1 after resolution: closing still needs what P1 needs."
    )
    assert refused_close_message(incident, actor) == (
        f"{incident.reference} was P1 after it was resolved (now P3): write its post-mortem and submit "
        "it for review before closing."
    )

    # Raised back afterwards: still the P1 rule, and that change is on the timeline too.
    incident = incident_update(incident=incident, by=actor, changes={"priority": priorities["P1"]})
    assert [e.details["to"] for e in events(incident, EventKind.PRIORITY_CHANGED)] == ["P3", "P1"]
    assert refused_close_message(incident, actor).startswith(f"{incident.reference} is P1: write its")

    incident = postmortem_ready(incident=incident, by=actor)
    assert incident_close(incident=incident, by=actor).status == S.CLOSED


def test_reopening_keeps_the_peak_priority(resolved, actor, priorities):
    """Resolved as a P1, reopened, lowered while worked again and resolved: it was a P1."""
    incident = resolved("P1")
    incident = incident_reopen(incident=incident, by=actor, reason="Errors are back")
    incident = incident_update(incident=incident, by=actor, changes={"priority": priorities["P3"]})
    incident = incident_resolve(incident=incident, by=actor, summary="Fixed for good")

    assert (incident.priority.code, incident.peak_priority) == ("P3", "P1")
    assert "was P1 after it was resolved (now P3)" in refused_close_message(incident, actor)


def test_lowering_while_worked_is_triage_not_a_dodge(open_incident, actor, priorities):
    incident = incident_acknowledge(incident=open_incident(priority=priorities["P1"]), by=actor)
    incident = incident_update(incident=incident, by=actor, changes={"priority": priorities["P3"]})
    incident = incident_resolve(incident=incident, by=actor, summary="Minor after all")

    assert (incident.peak_priority, incident.closing_priority) == ("P3", "P3")
    assert incident_close(incident=incident, by=actor).status == S.CLOSED


def test_raised_to_p1_after_resolution_needs_the_postmortem_and_gets_its_draft(resolved, actor, priorities):
    incident = resolved("P3")
    incident = incident_update(incident=incident, by=actor, changes={"priority": priorities["P1"]})
    assert incident.peak_priority == "P1"
    assert refused_close_message(incident, actor).startswith(f"{incident.reference} is P1: write its")
    # The draft a resolution of a P1 gets; the sweeper makes it for one raised afterwards.
    assert postmortem_drafts_sweep() == 1
    assert Postmortem.objects.filter(incident=incident).exists()


def test_a_postmortem_draft_lost_for_a_lowered_p1_is_still_swept(resolved, actor, priorities):
    incident = resolved("P1")
    incident_update(incident=incident, by=actor, changes={"priority": priorities["P4"]})
    assert postmortem_drafts_sweep() == 1


def test_a_closed_incident_cannot_be_raised_past_what_closing_needed(resolved, actor, priorities):
    incident = incident_close(incident=resolved("P3"), by=actor)
    before = snapshot(incident)

    with pytest.raises(ValidationError) as exc:
        incident_update(
            incident=incident, by=actor, changes={"priority": priorities["P2"], "title": "Renamed"}
        )

    assert exc.value.message_dict == {
        "priority": [
            f"{incident.reference} is closed and would no longer meet what closing needs: "
            f"{incident.reference} is P2: write its post-mortem and submit it for review before closing."
        ]
    }
    assert snapshot(incident) == before


def test_a_closed_p1_may_be_corrected_and_keeps_its_peak(resolved, actor, priorities):
    incident = postmortem_ready(incident=resolved("P1"), by=actor)
    incident = incident_close(incident=incident, by=actor)

    incident = incident_update(incident=incident, by=actor, changes={"priority": priorities["P2"]})

    assert (incident.status, incident.priority.code, incident.peak_priority) == (S.CLOSED, "P2", "P1")
    assert events(incident)[-1].kind == EventKind.PRIORITY_CHANGED


def test_post_incident_work_goes_on_after_resolution_and_close(resolved, actor):
    def write_up(incident: Incident) -> Incident:
        incident = incident_update(
            incident=incident,
            by=actor,
            changes={
                "description": f"Written up while {incident.status}.",
                "root_cause_category": RootCauseCategory.DEPLOYMENT,
                "users_affected": "many",
                "services_down": Incident.objects.get(pk=incident.pk).services_down + 1,
            },
        )
        assert incident.description == f"Written up while {incident.status}."
        assert events(incident)[-1].kind == EventKind.UPDATED
        return incident

    incident = write_up(resolved("P3"))
    write_up(incident_close(incident=incident, by=actor))


def test_api_lowering_a_resolved_p1_then_closing_is_refused(resolved, actor, responder):
    incident = resolved("P1")
    api = client_for(responder)

    response = api.patch(incidents_url(incident), {"priority": "P3"}, format="json")
    assert response.status_code == 200, response.data
    assert (response.data["priority"], response.data["peak_priority"]) == ("P3", "P1")

    response = api.post(incidents_url(incident, "close"), {}, format="json")
    assert response.status_code == 409, response.data
    assert "was P1 after it was resolved (now P3)" in response.data["detail"]


# --- Item 14: a resolved incident claims no work phase -----------------------------------------


def test_resolve_clears_the_phase_and_reopen_restarts_it(open_incident, actor):
    incident = incident_acknowledge(incident=open_incident(), by=actor)
    incident = incident_update(incident=incident, by=actor, changes={"phase": Phase.MONITORING})

    incident = incident_resolve(incident=incident, by=actor, summary="Fixed")
    assert Incident.objects.get(pk=incident.pk).phase == ""
    resolved_event = events(incident, EventKind.RESOLVED)[-1]
    assert resolved_event.details["phase"] == {"from": Phase.MONITORING, "to": ""}

    incident = incident_reopen(incident=incident, by=actor, reason="Errors are back")
    assert Incident.objects.get(pk=incident.pk).phase == Phase.INVESTIGATING
    assert events(incident, EventKind.REOPENED)[-1].details["phase"] == {
        "from": "",
        "to": Phase.INVESTIGATING,
    }


def test_api_shows_no_phase_once_resolved(open_incident, actor, responder):
    incident = incident_acknowledge(incident=open_incident(), by=actor)
    api = client_for(responder)

    response = api.post(incidents_url(incident, "resolve"), {"summary": "Fixed"}, format="json")

    assert response.status_code == 200, response.data
    assert (response.data["status"], response.data["phase"]) == ("resolved", "")


def test_admin_page_of_a_resolved_incident_does_not_post_the_old_phase_back(
    client, responder, open_incident, actor
):
    incident = incident_resolve(
        incident=incident_acknowledge(incident=open_incident(), by=actor), by=actor, summary="x"
    )
    client.force_login(responder)
    page = client.get(f"/admin/incidents/incident/{incident.pk}/change/")
    assert page.context["adminform"].form.fields["phase"].disabled


# --- The migration finds the incidents already lowered, and clears their phase ------------------


def test_migration_backfills_peak_priority_and_clears_phases(resolved, actor, priorities):
    lowered = incident_update(incident=resolved("P1"), by=actor, changes={"priority": priorities["P3"]})
    plain = resolved("P4")
    # As the rows were before the migration: no peak, and the phase kept after resolution.
    Incident.objects.filter(pk__in=[lowered.pk, plain.pk]).update(peak_priority="", phase=Phase.INVESTIGATING)

    migration = importlib.import_module(
        "incidents.migrations.0008_incident_peak_priority_and_no_phase_once_resolved"
    )
    migration.backfill(django_apps, None)

    assert list(
        Incident.objects.filter(pk__in=[lowered.pk, plain.pk])
        .order_by("pk")
        .values_list("peak_priority", "phase")
    ) == [
        ("P1", ""),
        ("P4", ""),
    ]


# --- Item 24: a guard that starts refusing between the check and the lock still says why --------


@pytest.fixture
def registered_guards():
    saved = dict(guards._close_guards)
    yield
    guards._close_guards.clear()
    guards._close_guards.update(saved)


def test_a_guard_refusing_under_the_lock_gives_its_reason_and_link(resolved, actor, registered_guards):
    incident = resolved("P3")
    calls = []

    def refuses_the_second_time(candidate: Incident) -> guards.CloseRefusal | None:
        calls.append(candidate.pk)
        if len(calls) == 1:
            return None
        return guards.CloseRefusal(
            reason="The change freeze review is pending.",
            record="review",
            link=None,
            fix_url="/admin/freeze/",
            fix_label="Open the review",
        )

    guards.close_guard_register("freeze", refuses_the_second_time)

    with pytest.raises(TransitionNotAllowedError) as exc:
        incident_close(incident=incident, by=actor)

    assert exc.value.message == "The change freeze review is pending."
    assert exc.value.extra == {
        "status": S.RESOLVED,
        "transition": "close",
        "review": None,
        "fix_url": "/admin/freeze/",
    }
    assert Incident.objects.get(pk=incident.pk).status == S.RESOLVED
