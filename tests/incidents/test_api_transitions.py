"""REST API: lifecycle transitions, their error shapes, and a lost race."""

import pytest

from incidents.api.views import IncidentViewSet
from incidents.choices import EventKind
from incidents.models import Incident, TimelineEvent
from incidents.services import incident_hold
from postmortems.services import postmortem_create
from tests.incidents.api_support import client_for, drive, incidents_url, other_responder
from tests.incidents.support import postmortem_ready

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(responder):
    return client_for(responder)


def last_event(incident: Incident) -> TimelineEvent:
    return incident.timeline_events.order_by("-occurred_at", "-id").first()


def test_acknowledge(api, open_incident, responder):
    incident = open_incident()

    response = api.post(incidents_url(incident, "acknowledge"))

    assert response.status_code == 200, response.data
    assert response.data["status"] == "in_progress"
    assert response.data["acknowledged_at"] is not None
    assert response.data["assignee"] == "responder"
    assert response.data["phase"] == "investigating"
    assert response.data["available_transitions"] == ["hold", "resolve"]
    event = last_event(incident)
    assert (event.kind, event.source, event.actor) == (EventKind.ACKNOWLEDGED, "api", responder)


def test_hold(api, open_incident, actor):
    incident = drive(open_incident(), "in_progress", by=actor)

    response = api.post(incidents_url(incident, "hold"), {"reason": "Waiting for the ISP"})

    assert response.status_code == 200, response.data
    assert response.data["status"] == "on_hold"
    assert last_event(incident).details["reason"] == "Waiting for the ISP"


def test_resume(api, open_incident, actor):
    incident = drive(open_incident(), "on_hold", by=actor)

    response = api.post(incidents_url(incident, "resume"))

    assert response.status_code == 200, response.data
    assert response.data["status"] == "in_progress"
    assert last_event(incident).kind == EventKind.RESUMED


@pytest.mark.parametrize("start", ["in_progress", "on_hold"])
def test_resolve(api, open_incident, actor, start):
    incident = drive(open_incident(), start, by=actor)

    response = api.post(incidents_url(incident, "resolve"), {"summary": "Rolled back the deploy"})

    assert response.status_code == 200, response.data
    assert response.data["status"] == "resolved"
    assert response.data["resolution_summary"] == "Rolled back the deploy"
    assert response.data["resolved_at"] is not None


def test_reopen(api, open_incident, actor):
    incident = drive(open_incident(), "resolved", by=actor)

    response = api.post(incidents_url(incident, "reopen"), {"reason": "Errors are back"})

    assert response.status_code == 200, response.data
    assert response.data["status"] == "in_progress"
    assert response.data["reopen_count"] == 1
    assert response.data["resolved_at"] is None


@pytest.mark.parametrize("body", [{}, {"note": "Post-mortem scheduled"}])
def test_close(api, open_incident, actor, body):
    incident = drive(open_incident(), "resolved", by=actor)
    incident = postmortem_ready(incident=incident, by=actor)  # A P2 closes with its post-mortem in review.

    response = api.post(incidents_url(incident, "close"), body)

    assert response.status_code == 200, response.data
    assert response.data["status"] == "closed"
    assert response.data["closed_at"] is not None
    assert response.data["available_transitions"] == []
    assert last_event(incident).details.get("note") == body.get("note")


def test_close_of_a_p2_without_its_postmortem_in_review_is_refused(api, open_incident, actor):
    incident = drive(open_incident(), "resolved", by=actor)
    response = api.get(incidents_url(incident))
    assert response.data["available_transitions"] == ["reopen"]
    no_postmortem = (
        f"{incident.reference} is P2: write its post-mortem and submit it for review before closing."
    )
    create_url = f"/admin/postmortems/postmortem/create-for/{incident.pk}/"
    assert response.data["postmortem"] is None
    assert response.data["close_refusal"] == {"reason": no_postmortem, "fix_url": create_url}

    response = api.post(incidents_url(incident, "close"), {"note": "Done"})

    assert response.status_code == 409, response.data
    assert response.data == {
        "detail": no_postmortem,
        "code": "transition_not_allowed",
        "status": "resolved",
        "transition": "close",
        "postmortem": None,
        "fix_url": create_url,
    }
    incident.refresh_from_db()
    assert (incident.status, incident.closed_at) == ("resolved", None)
    assert last_event(incident).kind == EventKind.RESOLVED

    # A draft: the refusal links to it.
    postmortem = postmortem_create(incident=incident, by=actor)
    link = {
        "id": postmortem.pk,
        "status": "draft",
        "url": f"/api/v1/postmortems/{postmortem.pk}/",
        "admin_url": f"/admin/postmortems/postmortem/{postmortem.pk}/change/",
    }
    response = api.post(incidents_url(incident, "close"), {"note": "Done"})
    assert response.status_code == 409, response.data
    assert response.data["detail"] == (
        f"{incident.reference} is P2: its post-mortem is still a draft; submit it for review before closing."
    )
    assert (response.data["postmortem"], response.data["fix_url"]) == (link, link["admin_url"])
    detail = api.get(incidents_url(incident)).data
    assert detail["postmortem"] == link
    assert detail["close_refusal"] == {"reason": response.data["detail"], "fix_url": link["admin_url"]}
    assert api.get(link["url"]).status_code == 200  # The link leads to the post-mortem.

    postmortem_ready(incident=incident, by=actor)
    detail = api.get(incidents_url(incident)).data
    assert (detail["available_transitions"], detail["close_refusal"]) == (["reopen", "close"], None)
    assert detail["postmortem"]["status"] == "in_review"


def test_dismiss_as_false_alarm(api, open_incident):
    incident = open_incident()

    response = api.post(incidents_url(incident, "dismiss"), {"reason": "Probe misconfigured"})

    assert response.status_code == 200, response.data
    assert response.data["status"] == "closed"
    assert response.data["dismissal_reason"] == "false_alarm"
    assert response.data["duplicate_of"] is None


@pytest.mark.parametrize("by", ["reference", "pk"])
def test_dismiss_as_duplicate_by_reference_or_id(api, open_incident, by):
    original = open_incident(title="Checkout down")
    incident = open_incident(title="Checkout 502s")

    response = api.post(
        incidents_url(incident, "dismiss"),
        {"reason": "Same outage", "dismissal_reason": "duplicate", "duplicate_of": getattr(original, by)},
    )

    assert response.status_code == 200, response.data
    assert response.data["dismissal_reason"] == "duplicate"
    assert response.data["duplicate_of"] == original.reference
    incident.refresh_from_db()
    assert incident.duplicate_of == original


def test_dismiss_as_duplicate_needs_the_original(api, open_incident):
    incident = open_incident()

    response = api.post(
        incidents_url(incident, "dismiss"), {"reason": "Dup", "dismissal_reason": "duplicate"}
    )

    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert response.data["duplicate_of"]
    incident.refresh_from_db()
    assert incident.status == "new"


def test_dismiss_with_an_unknown_original_is_400(api, open_incident):
    incident = open_incident()

    response = api.post(
        incidents_url(incident, "dismiss"),
        {"reason": "Dup", "dismissal_reason": "duplicate", "duplicate_of": "INC-1999-0001"},
    )

    assert response.status_code == 400
    assert "INC-1999-0001" in response.data["duplicate_of"][0]


def test_illegal_transition_is_409(api, open_incident):
    incident = open_incident()

    response = api.post(incidents_url(incident, "resolve"), {"summary": "Fixed"})

    assert response.status_code == 409
    assert response.data["code"] == "transition_not_allowed"
    assert incident.reference in response.data["detail"]
    assert response.data["status"] == "new"
    incident.refresh_from_db()
    assert incident.status == "new"


@pytest.mark.parametrize(
    ("name", "field", "start"),
    [
        ("hold", "reason", "in_progress"),
        ("reopen", "reason", "resolved"),
        ("dismiss", "reason", "new"),
        ("resolve", "summary", "in_progress"),
    ],
)
@pytest.mark.parametrize("body", [{}, {"reason": "   ", "summary": ""}])
def test_missing_reason_is_400_with_the_field_error(api, open_incident, actor, name, field, start, body):
    incident = drive(open_incident(), start, by=actor)
    events = incident.timeline_events.count()
    body = {k: v for k, v in body.items() if k == field}

    response = api.post(incidents_url(incident, name), body)

    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert response.data["detail"]
    assert isinstance(response.data[field], list) and response.data[field]
    incident.refresh_from_db()
    assert incident.status == start
    assert incident.timeline_events.count() == events


def test_unknown_field_in_a_transition_body_is_400(api, open_incident, actor):
    incident = drive(open_incident(), "in_progress", by=actor)

    response = api.post(incidents_url(incident, "hold"), {"reason": "x", "resaon": "typo"})

    assert response.status_code == 400
    assert "resaon" in response.data


def test_transition_on_an_unknown_incident_is_404(api):
    response = api.post("/api/v1/incidents/999999/acknowledge/")

    assert response.status_code == 404


def test_unknown_transition_is_404(api, open_incident):
    response = api.post(incidents_url(open_incident(), "auto_resolve"), {"summary": "x"})

    assert response.status_code == 404


def test_query_parameters_do_not_filter_the_incident_an_action_works_on(api, open_incident):
    incident = open_incident()

    response = api.post(incidents_url(incident, "acknowledge") + "?status=closed")

    assert response.status_code == 200


# --- A lost race -------------------------------------------------------------------------------------


def test_a_lost_race_is_409_conflict_and_changes_nothing(
    api, open_incident, actor, user_factory, monkeypatch
):
    """The caller read the incident in progress; before its resolve is written, someone else puts
    it on hold. Resolving from on hold is legal, so only the stale-state check can refuse it."""
    incident = drive(open_incident(), "in_progress", by=actor)
    rival = other_responder(user_factory)
    read = IncidentViewSet.get_object

    def read_then_lose_the_race(view):
        seen = read(view)
        incident_hold(incident=Incident.objects.get(pk=seen.pk), by=rival, reason="Vendor call")
        return seen

    monkeypatch.setattr(IncidentViewSet, "get_object", read_then_lose_the_race)

    response = api.post(incidents_url(incident, "resolve"), {"summary": "Fixed"})

    assert response.status_code == 409
    assert response.data["code"] == "conflict"
    assert response.data["status"] == "on_hold"
    assert "Reload" in response.data["detail"]
    incident.refresh_from_db()
    assert incident.status == "on_hold"
    assert incident.resolved_at is None
    assert last_event(incident).kind == EventKind.HELD


def test_the_second_of_two_identical_requests_gets_409(api, open_incident):
    """Two responders press acknowledge: one wins, the other learns why it did not."""
    incident = open_incident()

    first = api.post(incidents_url(incident, "acknowledge"))
    second = api.post(incidents_url(incident, "acknowledge"))

    assert first.status_code == 200
    assert second.status_code == 409
    assert second.data["code"] == "transition_not_allowed"
    assert incident.timeline_events.filter(kind=EventKind.ACKNOWLEDGED).count() == 1
