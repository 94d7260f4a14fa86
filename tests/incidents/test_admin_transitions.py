"""Transition buttons on the incident page and the admin views behind them."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from common.exceptions import ConflictError
from incidents.choices import DismissalReason, EventKind, IncidentStatus
from incidents.services import (
    TRANSITION_SERVICES,
    incident_acknowledge,
    incident_hold,
    incident_resolve,
)
from postmortems.services import postmortem_create
from tests.admin_support import change_url, flashed
from tests.incidents.support import postmortem_ready

S = IncidentStatus


def transition_url(incident, name: str) -> str:
    return reverse("admin:incidents_incident_transition", args=[incident.pk, name])


def buttons(response) -> list[str]:
    return re.findall(r'data-transition="(\w+)"', response.content.decode())


def kinds(incident) -> list[str]:
    return list(incident.timeline_events.order_by("occurred_at", "id").values_list("kind", flat=True))


@pytest.fixture
def in_status(open_incident, actor):
    """An incident brought to `status` through the services."""

    def make(status: str, *, postmortem: bool = True, **kwargs):
        incident = open_incident(**kwargs)
        if status in (S.IN_PROGRESS, S.ON_HOLD, S.RESOLVED):
            incident = incident_acknowledge(incident=incident, by=actor)
        if status == S.ON_HOLD:
            incident = incident_hold(incident=incident, by=actor, reason="Vendor")
        if status == S.RESOLVED:
            incident = incident_resolve(incident=incident, by=actor, summary="Fixed")
            if postmortem:  # A P1/P2 closes only with its post-mortem in review.
                incident = postmortem_ready(incident=incident, by=actor)
        return incident

    return make


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


# --- Close needs the post-mortem of a P1/P2 ----------------------------------------------------------


def refusal_on_page(response) -> tuple[str, str] | None:
    """The reason shown beside the Close button, and where its link leads."""
    found = re.search(
        r'id="incident-close-refusal">(.*?)<a href="([^"]+)" class="incident-refusal-link">',
        response.content.decode(),
        re.S,
    )
    return (" ".join(found.group(1).split()), found.group(2)) if found else None


def test_close_shows_with_its_reason_and_a_link_while_a_p2_has_no_postmortem_in_review(
    client, responder, actor, in_status
):
    incident = in_status(S.RESOLVED, postmortem=False)
    client.force_login(responder)
    no_postmortem = (
        f"{incident.reference} is P2: write its post-mortem and submit it for review before closing."
    )
    create_url = reverse("admin:postmortems_postmortem_create_for", args=[incident.pk])

    page = client.get(change_url(incident))
    assert buttons(page) == ["reopen", "close"]  # Close shows: the status allows it.
    assert refusal_on_page(page) == (no_postmortem, create_url)
    opened = client.get(transition_url(incident, "close"))
    assert opened.status_code == 302  # No form to fill in, and the reason why, with the link.
    assert flashed(opened) == [
        f'{no_postmortem} <a href="{create_url}" class="incident-refusal-link">Create the post-mortem</a>'
    ]

    postmortem = postmortem_create(incident=incident, by=actor)  # A draft is not enough either.
    draft = (
        f"{incident.reference} is P2: its post-mortem is still a draft; submit it for review before closing."
    )
    postmortem_url = reverse("admin:postmortems_postmortem_change", args=[postmortem.pk])
    page = client.get(change_url(incident))
    assert buttons(page) == ["reopen", "close"]
    assert refusal_on_page(page) == (draft, postmortem_url)
    response = client.post(transition_url(incident, "close"), {"seen_status": S.RESOLVED, "note": ""})

    assert response.status_code == 302
    assert flashed(response) == [
        f'{draft} <a href="{postmortem_url}" class="incident-refusal-link">Open the post-mortem</a>'
    ]
    incident.refresh_from_db()
    assert (incident.status, incident.closed_at) == (S.RESOLVED, None)
    assert EventKind.CLOSED not in kinds(incident)
    page = client.get(response.url)
    assert f'href="{postmortem_url}"' in page.content.decode()  # The message renders as a link.

    incident = postmortem_ready(incident=incident, by=actor)
    page = client.get(change_url(incident))
    assert buttons(page) == ["reopen", "close"]
    assert refusal_on_page(page) is None


def test_a_p3_closes_without_a_postmortem(client, responder, in_status, priorities):
    incident = in_status(S.RESOLVED, postmortem=False, priority=priorities["P3"])
    client.force_login(responder)

    assert buttons(client.get(change_url(incident))) == ["reopen", "close"]
    response = client.post(transition_url(incident, "close"), {"seen_status": S.RESOLVED, "note": ""})

    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == S.CLOSED


def test_dismiss_as_false_alarm(client, responder, in_status):
    incident = in_status(S.NEW)
    client.force_login(responder)

    response = client.post(
        transition_url(incident, "dismiss"),
        {"dismissal_reason": DismissalReason.FALSE_ALARM, "reason": "Probe flapped"},
    )

    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == S.CLOSED
    assert incident.dismissal_reason == DismissalReason.FALSE_ALARM


def test_dismiss_as_duplicate_by_reference(client, responder, in_status):
    original = in_status(S.IN_PROGRESS)
    incident = in_status(S.NEW)
    client.force_login(responder)

    response = client.post(
        transition_url(incident, "dismiss"),
        {
            "dismissal_reason": DismissalReason.DUPLICATE,
            "duplicate_of": original.reference.lower(),
            "reason": "Same outage",
        },
    )

    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.duplicate_of == original
    dismissed = incident.timeline_events.get(kind=EventKind.DISMISSED)
    assert dismissed.details["duplicate_of"] == original.reference


@pytest.mark.parametrize(
    ("duplicate_of", "error"),
    [
        ("", "Name the incident this one duplicates."),
        ("INC-1999-9999", "There is no incident INC-1999-9999."),
        ("self", "An incident cannot duplicate itself."),
    ],
)
def test_dismiss_as_duplicate_errors_are_form_errors(client, responder, in_status, duplicate_of, error):
    incident = in_status(S.NEW)
    client.force_login(responder)
    if duplicate_of == "self":
        duplicate_of = incident.reference

    response = client.post(
        transition_url(incident, "dismiss"),
        {"dismissal_reason": DismissalReason.DUPLICATE, "duplicate_of": duplicate_of, "reason": "Same"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["duplicate_of"] == [error]
    incident.refresh_from_db()
    assert incident.status == S.NEW


# --- Refusals --------------------------------------------------------------------------------------


def test_illegal_transition_gives_a_message_and_changes_nothing(client, responder, in_status):
    incident = in_status(S.NEW)
    client.force_login(responder)

    response = client.post(transition_url(incident, "reopen"), {"reason": "Because"})

    assert response.status_code == 302
    assert response.url == change_url(incident)
    assert flashed(response) == [f"Cannot reopen {incident.reference}: it is new."]
    incident.refresh_from_db()
    assert incident.status == S.NEW
    assert kinds(incident) == [EventKind.CREATED]


def test_form_for_an_unavailable_transition_redirects_with_a_message(client, responder, in_status):
    incident = in_status(S.NEW)
    client.force_login(responder)

    response = client.get(transition_url(incident, "close"))

    assert response.status_code == 302
    assert flashed(response) == [f"{incident.reference} cannot be closed now: it is new."]


def test_stale_page_is_a_conflict(client, responder, in_status, actor):
    incident = in_status(S.IN_PROGRESS)
    client.force_login(responder)
    # The responder opened the resolve form; meanwhile someone put the incident on hold.
    incident_hold(incident=incident, by=actor, reason="Vendor")

    response = client.post(
        transition_url(incident, "resolve"), {"seen_status": S.IN_PROGRESS, "summary": "Fixed"}
    )

    assert response.status_code == 302
    assert flashed(response) == [
        f"{incident.reference} changed while you were looking at it: it is now on hold. Reload and try again."
    ]
    incident.refresh_from_db()
    assert incident.status == S.ON_HOLD


def test_lost_race_in_the_service_is_a_message(client, responder, in_status, monkeypatch):
    incident = in_status(S.NEW)
    client.force_login(responder)

    def lose(**kwargs):
        raise ConflictError(f"{incident.reference} was changed by someone else. Reload and try again.")

    monkeypatch.setitem(TRANSITION_SERVICES, "acknowledge", lose)

    response = client.post(transition_url(incident, "acknowledge"), {"seen_status": S.NEW})

    assert response.status_code == 302
    assert flashed(response) == [f"{incident.reference} was changed by someone else. Reload and try again."]
    incident.refresh_from_db()
    assert incident.status == S.NEW


def test_double_submit_second_one_is_refused(client, responder, in_status):
    incident = in_status(S.NEW)
    client.force_login(responder)

    first = client.post(transition_url(incident, "acknowledge"), {"seen_status": S.NEW})
    second = client.post(transition_url(incident, "acknowledge"), {"seen_status": S.NEW})

    assert first.status_code == second.status_code == 302
    assert "changed while you were looking at it" in flashed(second)[-1]
    assert kinds(incident).count(EventKind.ACKNOWLEDGED) == 1
