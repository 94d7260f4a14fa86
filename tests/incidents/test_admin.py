"""The incident admin: lists, pages, and edits that go through the services."""

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from incidents.choices import EventKind, IncidentStatus, Role, UsersAffected, Visibility
from incidents.models import Incident, RoleAssignment, StatusUpdate, TimelineEvent
from tests.admin_support import change_url, changelist, form_data
from tests.incidents.admin_support import kinds
from tests.incidents.support import postmortem_ready

CHANGELIST = changelist(Incident)
ADD = reverse("admin:incidents_incident_add")


def quick_url(incident: Incident, form: str) -> str:
    """The war room's quick forms: "note" or "update"."""
    return reverse(f"admin:incidents_incident_quick_{form}", args=[incident.pk])


# --- Change page -----------------------------------------------------------------------------------


def test_change_page_shows_roles_suggestion_timeline_and_clock(
    client, responder, open_incident, priorities, user_factory
):
    lead = user_factory(username="lead")
    incident = open_incident(priority=priorities["P3"], users_affected=UsersAffected.ALL, commander=responder)
    RoleAssignment.objects.create(incident=incident, role=Role.TECHNICAL_LEAD, user=lead)
    client.force_login(responder)

    response = client.get(change_url(incident))

    assert response.status_code == 200
    html = response.content.decode()
    form = response.context["adminform"].form
    assert form.initial["technical_lead"] == lead.pk
    assert form.initial["commander"] == responder.pk
    for label in ("Technical lead", "Communications lead", "Scribe", "Commander"):
        assert label in html
    assert "all users are affected" in html
    assert "differs from the current P3" in html
    assert "Response due at" in html
    assert "Timeline" in html
    assert f"P3 incident opened: {incident.title}" in html
    assert "Post a status update" in html


def test_viewer_sees_roles_read_only(client, viewer, open_incident, user_factory):
    lead = user_factory(username="lead")
    incident = open_incident()
    RoleAssignment.objects.create(incident=incident, role=Role.SCRIBE, user=lead)
    client.force_login(viewer)

    html = client.get(change_url(incident)).content.decode()

    assert re.search(r"Scribe:</label>\s*<div class=\"readonly\">lead</div>", html)
    assert re.search(r"Technical lead:</label>\s*<div class=\"readonly\">-</div>", html)
    assert "Post a status update" not in html


# --- Writes through the services ------------------------------------------------------------------


def test_add_incident_goes_through_the_service(client, responder, priorities, service_factory):
    service = service_factory(name="Checkout", slug="checkout")
    client.force_login(responder)
    page = client.get(ADD)
    assert "Mitigate suggests a priority" in page.content.decode()

    response = client.post(
        ADD,
        form_data(
            page,
            title="Payments failing",
            priority=priorities["P2"].pk,
            services=[service.pk],
            users_affected=UsersAffected.MANY,
            _continue="1",
        ),
    )

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    incident = Incident.objects.get(title="Payments failing")
    assert response.url == change_url(incident)
    assert incident.reference.startswith("INC-")
    assert incident.created_by == responder
    assert list(incident.services.all()) == [service]
    assert incident.response_due_at is not None
    event = incident.timeline_events.get()
    assert event.kind == EventKind.CREATED
    assert event.source == "admin"
    assert event.actor == responder


def test_add_incident_refused_by_the_service_shows_the_error(client, responder, priorities):
    client.force_login(responder)
    page = client.get(ADD)
    future = timezone.now() + timedelta(days=1)

    response = client.post(
        ADD,
        form_data(
            page,
            title="From the future",
            priority=priorities["P2"].pk,
            detected_at_0=future.strftime("%Y-%m-%d"),
            detected_at_1=future.strftime("%H:%M:%S"),
        ),
    )

    assert response.status_code == 200
    assert "Detection cannot be in the future." in response.content.decode()
    assert not Incident.objects.exists()


def test_editing_priority_records_priority_changed(client, responder, open_incident, priorities):
    incident = open_incident(priority=priorities["P3"])
    client.force_login(responder)
    page = client.get(change_url(incident))

    response = client.post(change_url(incident), form_data(page, priority=priorities["P1"].pk))

    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.priority == priorities["P1"]
    assert kinds(incident) == [EventKind.CREATED, EventKind.PRIORITY_CHANGED]
    event = incident.timeline_events.get(kind=EventKind.PRIORITY_CHANGED)
    assert event.details == {"field": "priority", "from": "P3", "to": "P1"}
    assert event.source == "admin"


def test_saving_unchanged_form_writes_nothing(client, responder, open_incident):
    incident = open_incident()
    client.force_login(responder)
    page = client.get(change_url(incident))

    response = client.post(change_url(incident), form_data(page))

    assert response.status_code == 302
    assert kinds(incident) == [EventKind.CREATED]
    assert not StatusUpdate.objects.exists()


def test_editing_services_and_details(client, responder, open_incident, service_factory):
    old, new = service_factory(), service_factory()
    incident = open_incident(services=[old])
    client.force_login(responder)
    page = client.get(change_url(incident))

    response = client.post(change_url(incident), form_data(page, services=[new.pk], title="Renamed"))

    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.title == "Renamed"
    assert list(incident.services.all()) == [new]
    updated = incident.timeline_events.get(kind=EventKind.UPDATED)
    assert updated.details["fields"] == ["services", "title"]


def test_roles_are_assigned_through_the_service(client, responder, open_incident, user_factory):
    incident = open_incident()
    lead, scribe = user_factory(username="lead"), user_factory(username="scribe")
    client.force_login(responder)
    page = client.get(change_url(incident))

    response = client.post(
        change_url(incident),
        form_data(page, commander=responder.pk, technical_lead=lead.pk, scribe=scribe.pk),
    )

    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.commander == responder
    assert dict(incident.role_assignments.values_list("role", "user")) == {
        Role.TECHNICAL_LEAD: lead.pk,
        Role.SCRIBE: scribe.pk,
    }
    assert kinds(incident).count(EventKind.ROLE_ASSIGNED) == 3

    page = client.get(change_url(incident))
    client.post(change_url(incident), form_data(page, scribe=""))
    assert not incident.role_assignments.filter(role=Role.SCRIBE).exists()
    assert EventKind.ROLE_UNASSIGNED in kinds(incident)


def test_note_is_added_to_the_timeline(client, responder, open_incident):
    incident = open_incident()
    client.force_login(responder)

    response = client.post(
        quick_url(incident, "note"), {"quick-note-message": "Rolled back the 14:02 deploy."}
    )

    assert response.status_code == 302
    assert response["Location"] == change_url(incident) + "#incident-timeline"
    note = incident.timeline_events.get(kind=EventKind.NOTE)
    assert note.message == "Rolled back the 14:02 deploy."
    assert note.actor == responder
    assert note.source == "admin"


def test_a_quick_form_goes_back_to_the_timeline_as_filtered(client, responder, open_incident):
    incident = open_incident()
    client.force_login(responder)
    back = change_url(incident)

    kept = client.post(quick_url(incident, "note"), {"quick-note-message": "One", "timeline": "notes"})
    foreign = client.post(quick_url(incident, "note"), {"quick-note-message": "Two", "timeline": "//evil"})

    assert kept["Location"] == back + "?timeline=notes#incident-timeline"
    assert foreign["Location"] == back + "#incident-timeline"


def test_blank_note_is_a_form_error(client, responder, open_incident):
    incident = open_incident()
    client.force_login(responder)

    response = client.post(quick_url(incident, "note"), {"quick-note-message": "   "})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert kinds(incident) == [EventKind.CREATED]


def test_quick_forms_take_no_get_and_no_viewer(client, viewer, open_incident):
    incident = open_incident()
    client.force_login(viewer)

    assert client.get(quick_url(incident, "note")).status_code == 405
    response = client.post(quick_url(incident, "note"), {"quick-note-message": "Sneaky"})

    assert response.status_code == 200
    assert "You may not add notes to incidents." in response.content.decode()
    assert kinds(incident) == [EventKind.CREATED]


def test_status_update_quick_form_goes_through_the_service(client, responder, open_incident, actor):
    from incidents.services import incident_acknowledge

    incident = incident_acknowledge(incident=open_incident(), by=actor)
    client.force_login(responder)

    response = client.post(
        quick_url(incident, "update"),
        {
            "quick-update-message": "Failover done, watching error rates.",
            "quick-update-visibility": Visibility.PUBLIC,
            "quick-update-phase": "monitoring",
        },
    )

    assert response.status_code == 302
    update = StatusUpdate.objects.get()
    assert update.author == responder
    assert update.visibility == Visibility.PUBLIC
    incident.refresh_from_db()
    assert incident.phase == "monitoring"
    event = incident.timeline_events.get(kind=EventKind.STATUS_UPDATE)
    assert event.details["status_update"] == update.pk
    assert event.source == "admin"
    # Shown read-only afterwards.
    assert "Failover done, watching error rates." in client.get(change_url(incident)).content.decode()


def test_status_update_refused_by_the_service_changes_nothing(client, responder, open_incident):
    incident = open_incident()  # New: the work phases apply only once the incident is acknowledged.
    client.force_login(responder)

    response = client.post(
        quick_url(incident, "update"),
        {
            "quick-update-message": "Looking",
            "quick-update-visibility": "internal",
            "quick-update-phase": "fixing",
        },
    )

    assert response.status_code == 200
    (error,) = response.context["form"].errors["phase"]
    assert "A new incident is in triage or prioritized" in error
    assert not StatusUpdate.objects.exists()
    assert kinds(incident) == [EventKind.CREATED]


def test_status_update_typed_before_someone_closed_the_incident_is_refused(
    client, responder, open_incident, actor
):
    from incidents.services import incident_acknowledge, incident_close, incident_resolve

    incident = incident_acknowledge(incident=open_incident(), by=actor)
    client.force_login(responder)
    assert "quick_update_form" in client.get(change_url(incident)).context
    incident = incident_resolve(incident=incident, by=actor, summary="Fixed")
    incident = postmortem_ready(incident=incident, by=actor)
    incident_close(incident=incident, by=actor)

    response = client.post(
        quick_url(incident, "update"),
        {"quick-update-message": "Still here", "quick-update-visibility": "internal"},
    )

    assert response.status_code == 200
    assert f"{incident.reference} is closed: it takes no more updates." in response.content.decode()
    assert not StatusUpdate.objects.exists()


def test_phase_refused_while_new_is_a_form_error(client, responder, open_incident):
    incident = open_incident()
    client.force_login(responder)
    page = client.get(change_url(incident))

    response = client.post(change_url(incident), form_data(page, phase="fixing"))

    assert response.status_code == 200
    assert "phase" in response.context["adminform"].form.errors
    incident.refresh_from_db()
    assert incident.phase == "triage"


def test_closed_incident_takes_no_status_update(client, responder, open_incident, actor):
    from incidents.services import incident_dismiss

    incident = incident_dismiss(incident=open_incident(), by=actor, reason="Noise")
    client.force_login(responder)

    html = client.get(change_url(incident)).content.decode()

    assert incident.status == IncidentStatus.CLOSED
    assert "Post a status update" not in html
    assert "Dismissed as false alarm: Noise" in html


def test_timeline_is_read_only_and_oldest_first(client, responder, open_incident, actor):
    from incidents.services import incident_acknowledge, incident_hold

    incident = open_incident()
    incident = incident_acknowledge(incident=incident, by=actor)
    incident_hold(incident=incident, by=actor, reason="Waiting for the vendor")
    client.force_login(responder)

    response = client.get(change_url(incident))

    assert TimelineEvent not in [i.opts.model for i in response.context["inline_admin_formsets"]]
    assert [line.event.kind for line in response.context["timeline_lines"]] == [
        EventKind.CREATED,
        EventKind.ACKNOWLEDGED,
        EventKind.HELD,
    ]
    assert "Put on hold: Waiting for the vendor" in response.content.decode()


def test_timeline_events_have_no_admin_of_their_own(client, admin_user):
    from django.contrib import admin

    assert not admin.site.is_registered(TimelineEvent)
