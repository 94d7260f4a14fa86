"""The ops home (/admin/): the sections the apps register, SLA clocks from the stored due times,
runs awaiting my approval (never my own), alerts in no incident, who is on call, the app list with
incidents first and the plumbing under System, all in a constant number of queries."""

import re
from datetime import timedelta

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from actions.choices import RunStatus
from alerts.models import Alert
from alerts.services import alert_source_create
from common.actor import Actor, Source
from common.admin import home
from incidents.models import Incident
from incidents.services import incident_acknowledge
from oncall.models import Schedule
from tests.actions.factories import ActionRunFactory
from tests.oncall.support_schedules import layer_make

INDEX = reverse("admin:index")
# Session, user, the two incident sections, the two run sections, alerts, on call (schedules,
# layers, members, overrides, users), the recent actions box.
QUERIES = 13
pytestmark = pytest.mark.django_db


def section(html: str, name: str) -> str:
    """The HTML of one home section."""
    found = re.search(rf'<section[^>]*id="home-{name}".*?</section>', html, re.S)
    assert found, f"no section {name}"
    return found.group(0)


def alert_make(source, n: int, **kwargs) -> Alert:
    now = timezone.now()
    return Alert.objects.create(
        source=source,
        fingerprint=f"fp-{n}",
        name=f"Disk full {n}",
        starts_at=now,
        received_at=now - timedelta(minutes=n),
        last_received_at=now,
        **kwargs,
    )


@pytest.fixture
def source(admin_user):
    created, _token = alert_source_create(
        by=Actor(user=admin_user, source=Source.ADMIN), name="prom", kind="alertmanager"
    )
    return created


def test_open_incidents_by_priority_with_breached_clock_in_red(client, responder, open_incident, priorities):
    late = open_incident(title="Checkout down", priority=priorities["P1"])
    Incident.objects.filter(pk=late.pk).update(response_due_at=timezone.now() - timedelta(minutes=5))
    calm = open_incident(title="Slow reports", priority=priorities["P3"])
    client.force_login(responder)

    html = client.get(INDEX).content.decode()

    rows = section(html, "open-incidents")
    assert rows.index(late.reference) < rows.index(calm.reference)  # P1 before P3
    late_row = re.search(rf'data-incident="{late.reference}".*?</tr>', rows, re.S).group(0)
    assert "sla-clock sla-breached sla-response" in late_row
    assert "Response\nbreached" in late_row
    calm_row = re.search(rf'data-incident="{calm.reference}".*?</tr>', rows, re.S).group(0)
    assert "sla-clock sla-running sla-response" in calm_row
    assert "sla-breached" not in calm_row


def test_acknowledged_incident_shows_its_response_met(client, responder, open_incident, actor):
    incident = incident_acknowledge(incident=open_incident(), by=actor)
    client.force_login(responder)

    rows = section(client.get(INDEX).content.decode(), "open-incidents")

    assert "sla-clock sla-met sla-response" in rows
    assert "sla-clock sla-running sla-resolution" in rows
    assert incident.reference in rows


def test_my_incidents_are_those_i_am_assigned_or_command(client, responder, open_incident, user_factory):
    mine = open_incident(title="Mine", assignee=responder)
    commanded = open_incident(title="Commanded", commander=responder)
    other = open_incident(title="Theirs", assignee=user_factory(username="other"))
    client.force_login(responder)

    rows = section(client.get(INDEX).content.decode(), "my-incidents")

    assert mine.reference in rows and commanded.reference in rows
    assert other.reference not in rows


def test_runs_awaiting_my_approval_leave_out_my_own_requests(client, admin_user, user_factory, open_incident):
    requester = user_factory(username="requester")
    theirs = ActionRunFactory(status=RunStatus.AWAITING_APPROVAL, requested_by=requester)
    own = ActionRunFactory(status=RunStatus.AWAITING_APPROVAL, requested_by=admin_user)
    running = ActionRunFactory(status=RunStatus.RUNNING, started_at=timezone.now(), incident=open_incident())
    client.force_login(admin_user)

    html = client.get(INDEX).content.decode()

    awaiting = section(html, "runs-awaiting-approval")
    assert f'data-run="{theirs.pk}"' in awaiting
    assert f'data-run="{own.pk}"' not in awaiting
    live = section(html, "running-actions")
    assert f'data-run="{running.pk}"' in live and running.incident.reference in live


def test_who_cannot_approve_sees_no_approval_section(client, viewer):
    client.force_login(viewer)

    assert 'id="home-runs-awaiting-approval"' not in client.get(INDEX).content.decode()


def test_alerts_in_no_incident_link_to_their_page_without_the_create_page(
    client, admin_user, source, open_incident
):
    loose = alert_make(source, 1)
    taken = alert_make(source, 2, incident=open_incident())
    client.force_login(admin_user)

    rows = section(client.get(INDEX).content.decode(), "unlinked-alerts")

    assert f'data-alert="{loose.pk}"' in rows
    assert f'data-alert="{taken.pk}"' not in rows
    try:
        create = reverse("admin:alerts_alert_create_incident", args=[loose.pk])
    except NoReverseMatch:  # The create-from-alert page is another part's; without it, the alert page.
        create = reverse("admin:alerts_alert_change", args=[loose.pk])
    assert f'href="{create}"' in rows


def test_who_is_on_call_now(client, responder, user_factory):
    alice = user_factory(username="alice")
    schedule = Schedule.objects.create(name="Primary", time_zone="UTC")
    layer_make(schedule=schedule, members=[alice])
    Schedule.objects.create(name="Empty")
    client.force_login(responder)

    rows = section(client.get(INDEX).content.decode(), "oncall-now")

    primary = re.search(rf'data-schedule="{schedule.pk}".*?</tr>', rows, re.S).group(0)
    assert "alice" in primary
    assert "nobody" in rows


def test_app_list_has_incidents_first_and_the_plumbing_under_system(client, admin_user):
    client.force_login(admin_user)

    app_list = client.get(INDEX).context["app_list"]

    labels = [app["app_label"] for app in app_list]
    assert labels[0] == "incidents"
    assert labels[-1] == "system"
    assert "django_celery_beat" not in labels and "axes" not in labels
    system = {model["object_name"] for model in app_list[-1]["models"]}
    assert {"PeriodicTask", "ApiToken", "OutboxMessage", "AccessAttempt"} <= system
    common = next((app for app in app_list if app["app_label"] == "common"), None)
    assert common is None or not {"ApiToken", "OutboxMessage"} & {m["object_name"] for m in common["models"]}
    system_page = client.get(app_list[-1]["app_url"])
    assert system_page.status_code == 200
    assert {m["object_name"] for m in system_page.context["app_list"][0]["models"]} == system
    # One app's own page still lists all its models.
    beat = client.get(reverse("admin:app_list", args=["django_celery_beat"]))
    assert beat.status_code == 200
    assert "PeriodicTask" in {m["object_name"] for m in beat.context["app_list"][0]["models"]}


def test_a_registered_section_shows_and_hides(client, responder, monkeypatch):
    monkeypatch.setattr(home, "_sections", {})
    home.section_register(
        "shown", title="Shown", template="admin/home/oncall.html", order=2, context=lambda r: {"rows": []}
    )
    home.section_register("hidden", title="Hidden", template="x.html", order=1, context=lambda r: None)
    client.force_login(responder)

    sections = client.get(INDEX).context["home_sections"]

    assert [s.name for s in sections] == ["shown"]


def test_the_home_runs_a_constant_number_of_queries(
    client, admin_user, open_incident, source, user_factory, django_assert_num_queries
):
    client.force_login(admin_user)
    requester = user_factory(username="requester")

    def add_rows(n: int) -> None:
        for i in range(n):
            open_incident(title=f"Incident {i}", assignee=admin_user)
            ActionRunFactory(status=RunStatus.AWAITING_APPROVAL, requested_by=requester)
            ActionRunFactory(status=RunStatus.RUNNING, started_at=timezone.now())
            alert_make(source, len(Alert.objects.all()) + 10)
            schedule = Schedule.objects.create(name=f"Schedule {Schedule.objects.count()}")
            layer_make(schedule=schedule, members=[requester])

    add_rows(1)
    client.get(INDEX)  # Warm the session and content types.
    with django_assert_num_queries(QUERIES):
        client.get(INDEX)
    add_rows(4)
    with django_assert_num_queries(QUERIES):
        client.get(INDEX)


def test_the_list_links_open_filtered_lists(client, admin_user, open_incident, source):
    open_incident(assignee=admin_user)
    alert_make(source, 1)
    for _ in range(21):  # More than the section shows: its link leads on.
        ActionRunFactory(status=RunStatus.RUNNING, started_at=timezone.now())
    client.force_login(admin_user)

    html = client.get(INDEX).content.decode()

    links = [
        re.search(r'class="ops-home-more">.*?<a href="([^"]+)"', section(html, name), re.S).group(1)
        for name in ("open-incidents", "my-incidents", "unlinked-alerts", "running-actions")
    ]
    for link in links:
        response = client.get(link.replace("&amp;", "&"))
        assert response.status_code == 200, link  # An unknown lookup would redirect with ?e=1.
        assert response.context["cl"].result_count >= 1, link
