"""Transitions the incident page refuses: closing a P1/P2 before its post-mortem is in review, an
illegal transition, a stale page, a lost race and a double submit."""

import re

import pytest
from django.urls import reverse

from common.exceptions import ConflictError
from incidents.choices import DismissalReason, EventKind, IncidentStatus
from incidents.services import (
    TRANSITION_SERVICES,
    incident_hold,
)
from postmortems.services import postmortem_create
from tests.admin_support import change_url, flashed
from tests.incidents.admin_support import buttons, kinds, transition_url
from tests.incidents.support import postmortem_ready

S = IncidentStatus


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
