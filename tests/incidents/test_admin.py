"""The incident admin: lists, pages, and edits that go through the services."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents.choices import EventKind, IncidentStatus, Role, UsersAffected, Visibility
from incidents.models import Incident, RoleAssignment, StatusUpdate, TimelineEvent
from tests.admin_support import change_url, changelist, form_data
from tests.incidents.support import postmortem_ready

CHANGELIST = changelist(Incident)
ADD = reverse("admin:incidents_incident_add")


def kinds(incident: Incident) -> list[str]:
    return list(incident.timeline_events.order_by("occurred_at", "id").values_list("kind", flat=True))


# --- Changelist ------------------------------------------------------------------------------------


def test_changelist_renders_badges_and_columns(client, admin_user, open_incident, priorities):
    open_incident(title="Checkout returns 502", priority=priorities["P1"])
    open_incident(title="Slow search", priority=priorities["P5"])
    client.force_login(admin_user)

    response = client.get(CHANGELIST)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Checkout returns 502" in html
    assert "mitigate-badge priority-p1" in html
    assert "mitigate-badge priority-p5" in html
    assert "status-new" in html
    assert "incidents/admin.css" in html


def test_changelist_search_and_filter(client, admin_user, open_incident, priorities):
    one = open_incident(title="Database failover", priority=priorities["P1"])
    open_incident(title="Login slow", priority=priorities["P3"])
    client.force_login(admin_user)

    found = client.get(CHANGELIST, {"q": one.reference})
    assert list(found.context["cl"].result_list) == [one]
    filtered = client.get(CHANGELIST, {"priority__id__exact": priorities["P1"].pk})
    assert [i.title for i in filtered.context["cl"].result_list] == ["Database failover"]


def test_changelist_query_count_is_constant(
    client, admin_user, incident_factory, service_factory, user_factory, django_assert_num_queries
):
    services = [service_factory(), service_factory()]
    people = [user_factory(), user_factory()]

    def make(n):
        for i in range(n):
            incident_factory(services=services, assignee=people[i % 2], commander=people[(i + 1) % 2])

    client.force_login(admin_user)
    client.get(CHANGELIST)  # Warm up the session and content-type caches.
    make(1)
    # Session, user, filter choices (priority, services, assignee), page count, page, services
    # prefetch. (No date hierarchy: its distinct dates cost a scan of every incident.)
    with django_assert_num_queries(8):
        response = client.get(CHANGELIST)
    assert len(response.context["cl"].result_list) == 1

    make(49)
    with django_assert_num_queries(8):
        response = client.get(CHANGELIST)
    assert len(response.context["cl"].result_list) == 50


def test_viewer_sees_changelist_and_a_read_only_page(client, viewer, open_incident):
    incident = open_incident()
    client.force_login(viewer)

    assert client.get(CHANGELIST).status_code == 200
    response = client.get(change_url(incident))

    assert response.status_code == 200
    html = response.content.decode()
    assert "View incident" in html
    assert 'name="_save"' not in html
    assert "data-transition" not in html
    assert 'name="note"' not in html
    assert client.get(ADD).status_code == 403


def test_viewer_cannot_change(client, viewer, open_incident):
    incident = open_incident(title="Original")
    client.force_login(viewer)

    response = client.post(change_url(incident), {"title": "Changed"})

    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.title == "Original"


def test_nobody_deletes_incidents(client, admin_user, open_incident):
    incident = open_incident()
    client.force_login(admin_user)

    response = client.get(reverse("admin:incidents_incident_delete", args=[incident.pk]))

    assert response.status_code == 403


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
    assert "New status update" in html


def test_viewer_sees_roles_read_only(client, viewer, open_incident, user_factory):
    lead = user_factory(username="lead")
    incident = open_incident()
    RoleAssignment.objects.create(incident=incident, role=Role.SCRIBE, user=lead)
    client.force_login(viewer)

    html = client.get(change_url(incident)).content.decode()

    assert re.search(r"Scribe:</label>\s*<div class=\"readonly\">lead</div>", html)
    assert re.search(r"Technical lead:</label>\s*<div class=\"readonly\">-</div>", html)
    assert "New status update" not in html


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
    page = client.get(change_url(incident))

    client.post(change_url(incident), form_data(page, note="Rolled back the 14:02 deploy."))

    note = incident.timeline_events.get(kind=EventKind.NOTE)
    assert note.message == "Rolled back the 14:02 deploy."
    assert note.actor == responder


def test_status_update_inline_goes_through_the_service(client, responder, open_incident, actor):
    from incidents.services import incident_acknowledge

    incident = incident_acknowledge(incident=open_incident(), by=actor)
    client.force_login(responder)
    page = client.get(change_url(incident))
    prefix = next(i.formset.prefix for i in page.context["inline_admin_formsets"] if i.opts.extra == 1)

    response = client.post(
        change_url(incident),
        form_data(
            page,
            **{
                f"{prefix}-0-message": "Failover done, watching error rates.",
                f"{prefix}-0-visibility": Visibility.PUBLIC,
                f"{prefix}-0-phase": "monitoring",
            },
        ),
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
    incident = open_incident()  # New: the phase applies only once the incident is worked.
    client.force_login(responder)
    page = client.get(change_url(incident))
    prefix = next(i.formset.prefix for i in page.context["inline_admin_formsets"] if i.opts.extra == 1)

    response = client.post(
        change_url(incident),
        form_data(
            page,
            title="Renamed too",
            **{f"{prefix}-0-message": "Looking", f"{prefix}-0-phase": "fixing"},
        ),
    )

    assert response.status_code == 200
    assert "Status update: The phase applies only while the incident is worked." in (
        response.content.decode()
    )
    incident.refresh_from_db()
    assert incident.title != "Renamed too"  # The whole save was rolled back.
    assert not StatusUpdate.objects.exists()
    assert kinds(incident) == [EventKind.CREATED]


def test_status_update_typed_before_someone_closed_the_incident_is_refused(
    client, responder, open_incident, actor
):
    from incidents.services import incident_acknowledge, incident_close, incident_resolve

    incident = incident_acknowledge(incident=open_incident(), by=actor)
    client.force_login(responder)
    page = client.get(change_url(incident))
    prefix = next(i.formset.prefix for i in page.context["inline_admin_formsets"] if i.opts.extra == 1)
    incident = incident_resolve(incident=incident, by=actor, summary="Fixed")
    incident = postmortem_ready(incident=incident, by=actor)
    incident_close(incident=incident, by=actor)

    response = client.post(change_url(incident), form_data(page, **{f"{prefix}-0-message": "Still here"}))

    assert response.status_code == 200
    assert f"Status update: {incident.reference} is closed: it takes no more updates." in (
        response.content.decode()
    )
    assert not StatusUpdate.objects.exists()


def test_phase_refused_while_new_is_a_form_error(client, responder, open_incident):
    incident = open_incident()
    client.force_login(responder)
    page = client.get(change_url(incident))

    response = client.post(change_url(incident), form_data(page, phase="fixing"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["phase"] == [
        "The phase applies only while the incident is worked."
    ]
    incident.refresh_from_db()
    assert incident.phase == ""


def test_closed_incident_takes_no_status_update(client, responder, open_incident, actor):
    from incidents.services import incident_dismiss

    incident = incident_dismiss(incident=open_incident(), by=actor, reason="Noise")
    client.force_login(responder)

    html = client.get(change_url(incident)).content.decode()

    assert incident.status == IncidentStatus.CLOSED
    assert "New status update" not in html
    assert "Dismissed as false alarm: Noise" in html


def test_timeline_is_read_only_and_oldest_first(client, responder, open_incident, actor):
    from incidents.services import incident_acknowledge, incident_hold

    incident = open_incident()
    incident = incident_acknowledge(incident=incident, by=actor)
    incident_hold(incident=incident, by=actor, reason="Waiting for the vendor")
    client.force_login(responder)

    response = client.get(change_url(incident))

    timeline = next(i for i in response.context["inline_admin_formsets"] if i.opts.model is TimelineEvent)
    assert not (timeline.has_add_permission or timeline.has_change_permission)
    assert not timeline.has_delete_permission
    assert [f.original.kind for f in timeline] == [
        EventKind.CREATED,
        EventKind.ACKNOWLEDGED,
        EventKind.HELD,
    ]
    assert "Put on hold: Waiting for the vendor" in response.content.decode()


def test_timeline_events_have_no_admin_of_their_own(client, admin_user):
    from django.contrib import admin

    assert not admin.site.is_registered(TimelineEvent)


# --- Catalog --------------------------------------------------------------------------------------


def test_service_admin_pages_render(client, admin_user, service_factory):
    service = service_factory(name="Checkout", slug="checkout", runbook_url="https://runbooks/checkout")
    client.force_login(admin_user)

    changelist = client.get(reverse("admin:incidents_service_changelist"), {"type__exact": "web"})
    assert changelist.status_code == 200
    assert "Checkout" in changelist.content.decode()
    assert client.get(reverse("admin:incidents_service_change", args=[service.pk])).status_code == 200
    add = client.get(reverse("admin:incidents_service_add"))
    assert add.status_code == 200
    assert "prepopulated" in add.content.decode()


def test_priority_admin_edits_targets_but_adds_and_deletes_nothing(client, admin_user, priorities):
    client.force_login(admin_user)
    p1 = priorities["P1"]

    changelist = client.get(reverse("admin:incidents_priority_changelist"))
    assert changelist.status_code == 200
    assert "priority-p1" in changelist.content.decode()
    assert client.get(reverse("admin:incidents_priority_add")).status_code == 403
    assert client.get(reverse("admin:incidents_priority_delete", args=[p1.pk])).status_code == 403

    page = client.get(reverse("admin:incidents_priority_change", args=[p1.pk]))
    assert page.status_code == 200
    response = client.post(
        reverse("admin:incidents_priority_change", args=[p1.pk]),
        form_data(page, response_target="00:10:00"),
    )
    assert response.status_code == 302
    p1.refresh_from_db()
    assert p1.response_target == timedelta(minutes=10)
    assert p1.code == "P1"


def test_viewer_sees_catalog_read_only(client, viewer, service_factory):
    service = service_factory()
    client.force_login(viewer)

    assert client.get(reverse("admin:incidents_service_changelist")).status_code == 200
    page = client.get(reverse("admin:incidents_service_change", args=[service.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.get(reverse("admin:incidents_priority_changelist")).status_code == 200


@pytest.mark.parametrize("name", ["incidents_service", "incidents_priority", "incidents_incident"])
def test_responder_can_open_every_changelist(client, responder, name):
    client.force_login(responder)
    assert client.get(reverse(f"admin:{name}_changelist")).status_code == 200


def test_detected_within_filter(client, admin_user, incident_factory):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    incident_factory(title="Fresh", detected_at=now - timedelta(hours=2))
    incident_factory(title="Last week", detected_at=now - timedelta(days=5))
    incident_factory(title="Old", detected_at=now - timedelta(days=60))
    client.force_login(admin_user)

    def titles(window):
        response = client.get(CHANGELIST, {"detected": window})
        return sorted(i.title for i in response.context["cl"].result_list)

    assert titles("24h") == ["Fresh"]
    assert titles("7d") == ["Fresh", "Last week"]
    assert titles("90d") == ["Fresh", "Last week", "Old"]


def test_changelist_counts_up_to_a_cap(client, admin_user, incident_factory, monkeypatch):
    from incidents.admin.paginator import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    for _ in range(5):
        incident_factory()
    client.force_login(admin_user)

    response = client.get(CHANGELIST)

    assert response.context["cl"].result_count == 4  # Counted no further than the cap + 1.
    assert len(response.context["cl"].result_list) == 5  # The page itself is whole.
    assert "more than 3 incidents" in response.content.decode()

    few = client.get(CHANGELIST, {"q": response.context["cl"].result_list[0].reference})
    assert "1 incident" in few.content.decode() and "more than" not in few.content.decode()
