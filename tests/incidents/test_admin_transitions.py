"""Transition buttons on the incident page and the admin views behind them."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from incidents.choices import EventKind, IncidentStatus
from incidents.services import (
    TRANSITION_SERVICES,
)
from tests.admin_support import change_url, flashed
from tests.incidents.admin_support import buttons, kinds, transition_url

S = IncidentStatus


# --- Buttons ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (S.NEW, ["acknowledge", "dismiss"]),
        (S.IN_PROGRESS, ["hold", "resolve"]),
        (S.ON_HOLD, ["resume", "resolve"]),
        (S.RESOLVED, ["reopen", "close"]),
    ],
)
def test_buttons_follow_the_status(client, responder, in_status, status, expected):
    incident = in_status(status)
    client.force_login(responder)

    response = client.get(change_url(incident))

    assert response.status_code == 200
    assert buttons(response) == expected


def test_closed_incident_has_no_buttons(client, responder, open_incident, actor):
    incident = open_incident()
    TRANSITION_SERVICES["dismiss"](incident=incident, by=actor, reason="Noise")
    client.force_login(responder)

    assert buttons(client.get(change_url(incident))) == []


def test_acknowledge_and_resume_are_post_forms(client, responder, in_status):
    incident = in_status(S.NEW)
    client.force_login(responder)

    html = client.get(change_url(incident)).content.decode()

    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', html, re.S)
    assert form.group(1) == transition_url(incident, "acknowledge")
    assert "csrfmiddlewaretoken" in form.group(2)
    assert f'href="{transition_url(incident, "dismiss")}"' in html


@pytest.fixture
def editor(user_factory):
    """May edit incidents but not move them through their lifecycle."""
    user = user_factory(username="editor")
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="incidents", codename__in=["view_incident", "change_incident"]
        )
    )
    return user


@pytest.mark.parametrize("who", ["viewer", "editor"])
def test_users_without_the_transition_permission_see_no_buttons(client, request, in_status, who):
    user = request.getfixturevalue(who)
    incident = in_status(S.NEW)
    client.force_login(user)

    response = client.get(change_url(incident))

    assert response.status_code == 200
    assert buttons(response) == []
    assert client.post(transition_url(incident, "acknowledge")).status_code == 403


def test_superuser_sees_buttons(client, admin_user, in_status):
    incident = in_status(S.IN_PROGRESS)
    client.force_login(admin_user)

    assert buttons(client.get(change_url(incident))) == ["hold", "resolve"]


# --- Permissions and safety ------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
def test_viewer_gets_403(client, viewer, in_status, method):
    incident = in_status(S.NEW)
    client.force_login(viewer)

    response = getattr(client, method)(transition_url(incident, "acknowledge"))

    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.status == S.NEW


def test_get_never_transitions(client, responder, in_status):
    incident = in_status(S.NEW)
    client.force_login(responder)

    response = client.get(transition_url(incident, "acknowledge"))

    assert response.status_code == 200
    assert "Takes the incident on" in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == S.NEW
    assert kinds(incident) == [EventKind.CREATED]


def test_post_without_csrf_token_is_refused(responder, in_status):
    incident = in_status(S.NEW)
    client = Client(enforce_csrf_checks=True)
    client.force_login(responder)

    response = client.post(transition_url(incident, "acknowledge"))

    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.status == S.NEW


def test_unknown_transition_is_404(client, responder, in_status):
    incident = in_status(S.NEW)
    client.force_login(responder)

    assert client.get(transition_url(incident, "auto_resolve")).status_code == 404
    assert client.post(transition_url(incident, "explode")).status_code == 404


def test_anonymous_is_sent_to_login(client, in_status):
    incident = in_status(S.NEW)

    response = client.post(transition_url(incident, "acknowledge"))

    assert response.status_code == 302
    assert "/admin/login/" in response.url


# --- Each transition -------------------------------------------------------------------------------


def test_acknowledge(client, responder, in_status):
    incident = in_status(S.NEW)
    client.force_login(responder)

    response = client.post(transition_url(incident, "acknowledge"), {"seen_status": S.NEW})

    assert response.status_code == 302
    assert response.url == change_url(incident)
    assert flashed(response) == [f"{incident.reference} was acknowledged."]
    incident.refresh_from_db()
    assert incident.status == S.IN_PROGRESS
    assert incident.assignee == responder
    event = incident.timeline_events.get(kind=EventKind.ACKNOWLEDGED)
    assert (event.actor, event.source) == (responder, "admin")


def test_hold_shows_a_reason_form_then_holds(client, responder, in_status):
    incident = in_status(S.IN_PROGRESS)
    client.force_login(responder)

    page = client.get(transition_url(incident, "hold"))
    assert page.status_code == 200
    assert 'name="reason"' in page.content.decode()
    assert page.context["form"].initial["seen_status"] == S.IN_PROGRESS

    response = client.post(
        transition_url(incident, "hold"), {"seen_status": S.IN_PROGRESS, "reason": "Waiting for AWS"}
    )

    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == S.ON_HOLD
    assert incident.timeline_events.get(kind=EventKind.HELD).details["reason"] == "Waiting for AWS"


@pytest.mark.parametrize("reason", ["", "   "])
def test_hold_without_reason_shows_the_form_again_and_changes_nothing(client, responder, in_status, reason):
    incident = in_status(S.IN_PROGRESS)
    client.force_login(responder)

    response = client.post(transition_url(incident, "hold"), {"seen_status": S.IN_PROGRESS, "reason": reason})

    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == ["This field is required."]
    assert "errornote" in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == S.IN_PROGRESS
    assert kinds(incident) == [EventKind.CREATED, EventKind.ACKNOWLEDGED]


def test_resume(client, responder, in_status):
    incident = in_status(S.ON_HOLD)
    client.force_login(responder)

    response = client.post(transition_url(incident, "resume"), {"seen_status": S.ON_HOLD})

    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == S.IN_PROGRESS
    assert kinds(incident)[-1] == EventKind.RESUMED


def test_resolve_needs_a_summary(client, responder, in_status):
    incident = in_status(S.ON_HOLD)
    client.force_login(responder)

    missing = client.post(transition_url(incident, "resolve"), {"seen_status": S.ON_HOLD})
    assert missing.status_code == 200
    assert "summary" in missing.context["form"].errors

    response = client.post(
        transition_url(incident, "resolve"), {"seen_status": S.ON_HOLD, "summary": "Restarted the pool"}
    )

    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == S.RESOLVED
    assert incident.resolution_summary == "Restarted the pool"
    assert incident.resolved_at is not None


def test_reopen_needs_a_reason(client, responder, in_status):
    incident = in_status(S.RESOLVED)
    client.force_login(responder)

    missing = client.post(transition_url(incident, "reopen"), {"reason": ""})
    assert missing.status_code == 200
    incident.refresh_from_db()
    assert incident.status == S.RESOLVED

    response = client.post(transition_url(incident, "reopen"), {"reason": "Errors are back"})

    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == S.IN_PROGRESS
    assert incident.reopen_count == 1


def test_close_with_an_optional_note(client, responder, in_status):
    incident = in_status(S.RESOLVED)
    client.force_login(responder)

    page = client.get(transition_url(incident, "close"))
    assert page.status_code == 200
    assert not page.context["form"].fields["note"].required

    response = client.post(transition_url(incident, "close"), {"seen_status": S.RESOLVED, "note": ""})

    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == S.CLOSED
    assert incident.closed_at is not None
