"""Pinned (starred) timeline events: the service, the admin's pin URL and its partial, the API, and
the post-mortem's generated timeline that pinned events lead."""

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from common.actor import Actor, Source
from common.exceptions import PermissionDeniedError
from incidents.choices import EventKind
from incidents.models import TimelineEvent
from incidents.services import incident_note_add, timeline_event_pin
from postmortems.markdown import postmortem_markdown
from postmortems.selectors import postmortem_timeline
from postmortems.services import postmortem_create, timeline_regenerate
from tests.incidents.api_support import client_for, incidents_url
from tests.incidents.support import install_clock

pytestmark = pytest.mark.django_db


def pin_url(event: TimelineEvent, incident=None) -> str:
    return reverse("admin:incidents_incident_pin", args=[(incident or event.incident).pk, event.pk])


def api_pin_url(incident, event: TimelineEvent) -> str:
    return incidents_url(incident, f"timeline/{event.pk}/pin")


@pytest.fixture
def note(open_incident, actor):
    incident = open_incident()
    return incident_note_add(incident=incident, by=actor, message="Pool exhausted at 09:40")


# --- Service -----------------------------------------------------------------------------------------


def test_pin_records_who_and_when_and_unpin_clears_them(note, actor, responder, monkeypatch):
    clock = install_clock(monkeypatch)
    pinned = timeline_event_pin(event=note, by=actor, pinned=True)

    stored = TimelineEvent.objects.get(pk=note.pk)
    assert (stored.pinned, stored.pinned_by, stored.pinned_at) == (True, responder, clock.now)
    assert pinned.pinned

    clock.advance(minutes=5)
    timeline_event_pin(event=note, by=actor, pinned=False)
    stored.refresh_from_db()
    assert (stored.pinned, stored.pinned_by, stored.pinned_at) == (False, None, None)


def test_pinning_twice_keeps_the_first_pin(note, actor, user_factory, monkeypatch):
    clock = install_clock(monkeypatch)
    timeline_event_pin(event=note, by=actor, pinned=True)
    first_at = clock.now
    clock.advance(minutes=3)
    other = Actor(user=user_factory(groups=["Responder"]), source=Source.ADMIN)

    timeline_event_pin(event=note, by=other, pinned=True)

    stored = TimelineEvent.objects.get(pk=note.pk)
    assert (stored.pinned_by, stored.pinned_at) == (actor.user, first_at)


def test_pin_changes_nothing_else_and_writes_no_event(note, actor):
    before = TimelineEvent.objects.filter(pk=note.pk).values("kind", "message", "occurred_at", "actor").get()
    count = TimelineEvent.objects.count()

    timeline_event_pin(event=note, by=actor, pinned=True)

    assert (
        TimelineEvent.objects.filter(pk=note.pk).values("kind", "message", "occurred_at", "actor").get()
        == before
    )
    assert TimelineEvent.objects.count() == count


def test_a_viewer_may_not_pin(note, viewer):
    with pytest.raises(PermissionDeniedError):
        timeline_event_pin(event=note, by=Actor(user=viewer, source=Source.API), pinned=True)
    assert not TimelineEvent.objects.get(pk=note.pk).pinned


# --- Admin -------------------------------------------------------------------------------------------


def test_admin_pin_post_pins_and_redirects_to_the_incident(client, responder, note):
    client.force_login(responder)

    response = client.post(pin_url(note), {"pinned": "1"})

    change = reverse("admin:incidents_incident_change", args=[note.incident_id])
    assert response.status_code == 302
    assert response["Location"] == f"{change}#timeline-event-{note.pk}"
    assert TimelineEvent.objects.get(pk=note.pk).pinned

    assert client.post(pin_url(note), {"pinned": "0"}).status_code == 302
    assert not TimelineEvent.objects.get(pk=note.pk).pinned


def test_admin_pin_is_post_only(client, responder, note):
    client.force_login(responder)
    assert client.get(pin_url(note), {"pinned": "1"}).status_code == 405
    assert not TimelineEvent.objects.get(pk=note.pk).pinned


def test_admin_pin_needs_the_csrf_token(responder, note):
    client = Client(enforce_csrf_checks=True)
    client.force_login(responder)
    assert client.post(pin_url(note), {"pinned": "1"}).status_code == 403
    assert not TimelineEvent.objects.get(pk=note.pk).pinned


def test_admin_pin_refuses_a_viewer(client, viewer, note):
    client.force_login(viewer)
    assert client.post(pin_url(note), {"pinned": "1"}).status_code == 403
    assert not TimelineEvent.objects.get(pk=note.pk).pinned


def test_admin_pin_of_another_incidents_event_is_404(client, responder, note, open_incident):
    other = open_incident(title="Another one")
    client.force_login(responder)
    assert client.post(pin_url(note, incident=other), {"pinned": "1"}).status_code == 404
    assert not TimelineEvent.objects.get(pk=note.pk).pinned


@pytest.mark.parametrize("value", ["", "yes", "2", "true"])
def test_admin_pin_with_a_bad_value_is_400(client, responder, note, value):
    client.force_login(responder)
    assert client.post(pin_url(note), {"pinned": value}).status_code == 400
    assert not TimelineEvent.objects.get(pk=note.pk).pinned


def _partial(user, event) -> str:
    from django.contrib.auth.context_processors import PermWrapper

    return render_to_string(
        "admin/incidents/incident/_pin_toggle.html",
        {"event": event, "perms": PermWrapper(user), "csrf_token": "token-x"},
    )


def test_pin_partial_is_a_self_contained_post_form(responder, note, actor):
    html = _partial(responder, note)
    assert f'action="{pin_url(note)}"' in html and 'method="post"' in html
    assert 'name="csrfmiddlewaretoken" value="token-x"' in html
    assert 'name="pinned" value="1"' in html and "☆" in html and "★" not in html

    pinned = timeline_event_pin(event=note, by=actor, pinned=True)
    html = _partial(responder, pinned)
    assert 'name="pinned" value="0"' in html and "★" in html and 'aria-pressed="true"' in html


def test_pin_partial_shows_a_viewer_the_star_but_no_button(viewer, note, actor):
    assert "<form" not in _partial(viewer, note) and "★" not in _partial(viewer, note)
    pinned = timeline_event_pin(event=note, by=actor, pinned=True)
    html = _partial(viewer, pinned)
    assert "<form" not in html and "★" in html


# --- API ---------------------------------------------------------------------------------------------


def test_api_pin_and_unpin(note, responder):
    api = client_for(responder)

    response = api.post(api_pin_url(note.incident, note), {"pinned": True})

    assert response.status_code == 200
    assert (response.data["id"], response.data["pinned"], response.data["pinned_by"]) == (
        note.pk,
        True,
        "responder",
    )
    assert response.data["pinned_at"] is not None
    timeline = api.get(incidents_url(note.incident, "timeline")).data["results"]
    assert [row["pinned"] for row in timeline if row["id"] == note.pk] == [True]

    response = api.post(api_pin_url(note.incident, note), {"pinned": False})
    assert response.status_code == 200
    assert (response.data["pinned"], response.data["pinned_by"], response.data["pinned_at"]) == (
        False,
        None,
        None,
    )


def test_api_pin_of_another_incidents_event_is_404(note, responder, open_incident):
    other = open_incident(title="Another one")
    response = client_for(responder).post(api_pin_url(other, note), {"pinned": True})
    assert response.status_code == 404
    assert not TimelineEvent.objects.get(pk=note.pk).pinned


def test_api_pin_of_an_unknown_event_is_404(note, responder):
    response = client_for(responder).post(
        incidents_url(note.incident, "timeline/999999/pin"), {"pinned": True}
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "body", [{}, {"pinned": "maybe"}, {"pinned": None}, {"pinned": True, "extra": 1}], ids=str
)
def test_api_pin_bad_input_is_400(note, responder, body):
    response = client_for(responder).post(api_pin_url(note.incident, note), body, format="json")
    assert response.status_code == 400
    assert not TimelineEvent.objects.get(pk=note.pk).pinned


def test_api_pin_refuses_a_viewer(note, viewer):
    response = client_for(viewer).post(api_pin_url(note.incident, note), {"pinned": True})
    assert response.status_code == 403
    assert not TimelineEvent.objects.get(pk=note.pk).pinned


# --- Post-mortem -------------------------------------------------------------------------------------


def test_pinned_events_lead_the_postmortem_timeline_as_key_moments(in_status, actor, monkeypatch):
    clock = install_clock(monkeypatch)
    incident = in_status("resolved", postmortem=False)
    clock.advance(minutes=10)
    first = incident_note_add(incident=incident, by=actor, message="Rolled back release 2026.3")
    clock.advance(minutes=10)
    second = incident_note_add(incident=incident, by=actor, message="Connection pool exhausted")
    timeline_event_pin(event=second, by=actor, pinned=True)
    timeline_event_pin(event=first, by=actor, pinned=True)

    postmortem = postmortem_create(incident=incident, by=actor)

    entries = postmortem_timeline(postmortem)
    # The key moments first, in time order, then the whole story in time order.
    assert [e.shown for e in entries[:2]] == ["Rolled back release 2026.3", "Connection pool exhausted"]
    assert all(e.pinned for e in entries[:2]) and not any(e.pinned for e in entries[2:])
    rest = [e.occurred_at for e in entries[2:]]
    assert rest == sorted(rest) and len(entries) > 2
    assert EventKind.CREATED.label not in [e.shown for e in entries[:2]]
    markdown = postmortem_markdown(postmortem)
    assert "📌 Key moment: Rolled back release 2026.3" in markdown
    assert markdown.index("Connection pool exhausted") < markdown.index("incident opened")


def test_an_event_pinned_after_generation_pins_its_entry_on_regeneration(in_status, actor):
    incident = in_status("resolved", postmortem=False)
    note = incident_note_add(incident=incident, by=actor, message="Found the bad index")
    postmortem = postmortem_create(incident=incident, by=actor)
    assert not postmortem.entries.get(key=f"timeline:{note.pk}").pinned

    timeline_event_pin(event=note, by=actor, pinned=True)
    timeline_regenerate(postmortem=postmortem, by=actor)

    assert postmortem.entries.get(key=f"timeline:{note.pk}").pinned
    assert postmortem_timeline(postmortem)[0].key == f"timeline:{note.pk}"


def test_unpinning_on_the_incident_leaves_the_authors_pin(in_status, actor):
    incident = in_status("resolved", postmortem=False)
    note = incident_note_add(incident=incident, by=actor, message="Found the bad index")
    timeline_event_pin(event=note, by=actor, pinned=True)
    postmortem = postmortem_create(incident=incident, by=actor)

    timeline_event_pin(event=note, by=actor, pinned=False)
    timeline_regenerate(postmortem=postmortem, by=actor)

    assert postmortem.entries.get(key=f"timeline:{note.pk}").pinned


def test_timeline_list_with_pins_keeps_its_query_count(note, responder, actor, django_assert_num_queries):
    api = client_for(responder)
    url = incidents_url(note.incident, "timeline")
    with CaptureQueriesContext(connection) as first:
        api.get(url)
    for n in range(5):
        event = incident_note_add(incident=note.incident, by=actor, message=f"Note {n}")
        timeline_event_pin(event=event, by=actor, pinned=True)
    with django_assert_num_queries(len(first.captured_queries)):
        response = api.get(url)
    assert sum(row["pinned_by"] == "responder" for row in response.data["results"]) == 5
