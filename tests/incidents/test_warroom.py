"""The incident page as a war room: the header (clocks, roles, bridge, transitions with the reason
one is refused), the timeline with its server-side filter and the entries of the apps above, the
optional pin and tools partials, the panels below, and a constant number of queries."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from actions.choices import RunStatus
from alerts.models import Alert
from alerts.services import alert_source_create
from common.actor import Actor, Source
from incidents.choices import EventKind, Role
from incidents.models import Incident, RoleAssignment, TimelineEvent
from incidents.services import incident_acknowledge, incident_note_add, incident_resolve, status_update_create
from notifications.choices import ChannelKind
from notifications.choices import EventKind as NotificationKind
from notifications.models import Delivery
from notifications.services.channels import channel_save
from tests.actions.factories import ActionRunFactory
from tests.admin_support import change_url
from tests.notifications.support import SYSTEM

pytestmark = pytest.mark.django_db
# Session, user, the incident with its joins and roles, the transitions' guards, the timeline's
# events and counts, the registered timeline sources, and each panel's rows (status updates, alerts,
# runs, snapshot, runbooks, paging, notifications, status page, post-mortem, cost, ...).
QUERIES = 33


def page(client, incident: Incident, **params):
    return client.get(change_url(incident), params)


def lines(response) -> list[str]:
    return [line.message for line in response.context["timeline_lines"]]


@pytest.fixture
def source(admin_user):
    created, _token = alert_source_create(
        by=Actor(user=admin_user, source=Source.ADMIN), name="prom", kind="alertmanager"
    )
    return created


def attach_alert(incident: Incident, source, n: int) -> Alert:
    now = timezone.now()
    return Alert.objects.create(
        source=source,
        fingerprint=f"fp-{n}",
        name=f"Disk full {n}",
        starts_at=now,
        received_at=now,
        last_received_at=now,
        incident=incident,
    )


def notify(incident: Incident, n: int) -> Delivery:
    channel = channel_save(
        by=SYSTEM, name=f"Ops mail {n}", kind=ChannelKind.EMAIL, config={"to": ["ops@example.com"]}
    )
    return Delivery.objects.create(
        event_key=f"e{n}",
        target_key=f"c:{channel.pk}",
        event_kind=NotificationKind.INCIDENT_OPENED,
        event={
            "kind": "incident_opened",
            "message": f"Told the ops list {n}",
            "details": {},
            "at": "",
            "by": "x",
        },
        channel=channel,
        incident=incident,
        next_attempt_at=timezone.now(),
    )


def test_header_shows_clocks_roles_phase_and_bridge(client, responder, open_incident, actor, user_factory):
    incident = open_incident(bridge_url="https://meet.example.com/inc-1", commander=responder)
    incident = incident_acknowledge(incident=incident, by=actor)
    status_update_create(incident=incident, by=actor, message="Found it", phase="identified")
    RoleAssignment.objects.create(
        incident=incident, role=Role.SCRIBE, user=user_factory(username="scribbler")
    )
    Incident.objects.filter(pk=incident.pk).update(resolution_due_at=timezone.now() - timedelta(minutes=1))
    client.force_login(responder)

    response = page(client, incident)

    html = response.content.decode()
    assert 'id="warroom-header"' in html
    assert '<span class="warroom-phase" id="warroom-phase">Identified</span>' in html
    clocks = {clock.name: clock.state for clock in response.context["incident_clocks"]}
    assert clocks == {"response": "met", "resolution": "breached", "update": "running"}
    assert "sla-clock sla-breached sla-resolution" in html
    assert dict(response.context["incident_roles"])["Scribe"].username == "scribbler"
    assert dict(response.context["incident_roles"])["Commander"] == responder
    assert 'href="https://meet.example.com/inc-1" rel="noopener noreferrer"' in html
    assert 'data-transition="resolve"' in html


def test_a_refused_close_shows_the_reason_and_the_fix(client, responder, open_incident, actor, priorities):
    incident = incident_acknowledge(incident=open_incident(priority=priorities["P2"]), by=actor)
    incident = incident_resolve(incident=incident, by=actor, summary="Fixed")
    client.force_login(responder)

    html = page(client, incident).content.decode()

    header = html[html.index('id="warroom-header"') : html.index('id="incident-timeline"')]
    assert 'id="incident-close-refusal"' in header
    assert "write its post-mortem and submit it for review before closing" in header
    assert f"/admin/postmortems/postmortem/create-for/{incident.pk}/" in header


def test_the_timeline_filters_on_the_server(client, responder, open_incident, actor, source):
    incident = incident_acknowledge(incident=open_incident(), by=actor)
    incident_note_add(incident=incident, by=actor, message="Rolled back")
    status_update_create(incident=incident, by=actor, message="Watching")
    attach_alert(incident, source, 1)
    TimelineEvent.objects.create(
        incident=incident,
        kind=EventKind.ALERT_ATTACHED,
        actor_name="system",
        source="alert",
        message="Alert joined",
    )
    notify(incident, 1)
    client.force_login(responder)

    everything = page(client, incident)
    notes = page(client, incident, timeline="notes")
    updates = page(client, incident, timeline="updates")
    alerts = page(client, incident, timeline="alerts")
    told = page(client, incident, timeline="notifications")
    unknown = page(client, incident, timeline="<script>")

    assert {"Rolled back", "Watching", "Alert joined", "Told the ops list 1"} <= set(lines(everything))
    assert lines(notes) == ["Rolled back"]
    assert [line.kind for line in updates.context["timeline_lines"]] == [EventKind.STATUS_UPDATE]
    assert lines(alerts) == ["Alert joined"]
    assert lines(told) == ["Told the ops list 1"]
    delivery = Delivery.objects.get()
    url = reverse("admin:notifications_delivery_change", args=[delivery.pk])
    assert told.context["timeline_lines"][0].url == url
    assert unknown.context["timeline_filter"] == "all"
    assert lines(unknown) == lines(everything)
    counts = {f["key"]: f["count"] for f in everything.context["timeline_filters"]}
    assert counts["notes"] == 1 and counts["updates"] == 1 and counts["notifications"] == 1
    assert counts["all"] == len(lines(everything))
    active = [f["key"] for f in notes.context["timeline_filters"] if f["active"]]
    assert active == ["notes"]
    assert 'href="?timeline=notes#incident-timeline"' in notes.content.decode()


def test_the_pinned_filter_shows_pinned_events(client, responder, open_incident, actor):
    incident = open_incident()
    note = incident_note_add(incident=incident, by=actor, message="Key moment")
    incident_note_add(incident=incident, by=actor, message="Chatter")
    TimelineEvent.objects.filter(pk=note.pk).update(pinned=True)
    client.force_login(responder)

    assert lines(page(client, incident, timeline="pinned")) == ["Key moment"]


def test_pin_and_tools_partials_are_included_when_they_exist(
    client, responder, open_incident, settings, tmp_path
):
    incident = open_incident()
    client.force_login(responder)
    assert page(client, incident).context["timeline_pin_template"] in (
        None,
        "admin/incidents/incident/_pin_toggle.html",
    )

    partials = tmp_path / "admin" / "incidents" / "incident"
    partials.mkdir(parents=True)
    (partials / "_pin_toggle.html").write_text('<span class="test-pin" data-event="{{ event.pk }}"></span>')
    (partials / "_timeline_tools.html").write_text('<span class="test-tools"></span>')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]

    html = page(client, incident).content.decode()

    event = incident.timeline_events.get()
    assert f'<span class="test-pin" data-event="{event.pk}"></span>' in html
    assert '<span class="test-tools"></span>' in html


def test_quick_forms_sit_beside_the_timeline_outside_the_change_form(client, responder, open_incident):
    incident = open_incident()
    client.force_login(responder)

    html = page(client, incident).content.decode()

    change_form = html.index('id="incident_form"')
    assert html.index('id="quick-note-form"') < change_form
    assert html.index('id="quick-update-form"') < change_form
    assert html.index('id="incident-timeline"') < html.index('id="quick-note-form"')
    assert f'action="{reverse("admin:incidents_incident_quick_note", args=[incident.pk])}"' in html
    assert '<details class="warroom-panel" id="incident-details" open>' in html


def test_viewer_gets_no_quick_forms(client, viewer, open_incident):
    incident = open_incident()
    client.force_login(viewer)

    response = page(client, incident)

    assert "quick_note_form" not in response.context
    assert "quick_update_form" not in response.context
    assert 'id="incident-timeline"' in response.content.decode()


def test_the_page_runs_a_constant_number_of_queries(
    client, admin_user, open_incident, actor, source, django_assert_num_queries
):
    incident = incident_acknowledge(incident=open_incident(), by=actor)
    client.force_login(admin_user)

    def add_rows(start: int, n: int) -> None:
        for i in range(start, start + n):
            incident_note_add(incident=incident, by=actor, message=f"Note {i}")
            status_update_create(incident=incident, by=actor, message=f"Update {i}")
            attach_alert(incident, source, i)
            ActionRunFactory(incident=incident, status=RunStatus.SUCCEEDED, requested_by=admin_user)
            notify(incident, i)

    add_rows(0, 1)
    page(client, incident)  # Warm the session and content types.
    with django_assert_num_queries(QUERIES) as first:
        page(client, incident)
    add_rows(1, 4)
    with django_assert_num_queries(len(first.captured_queries)):
        response = page(client, incident)
    assert len(response.context["timeline_lines"]) > 10
