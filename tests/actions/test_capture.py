"""State capture at incident start: an incident opened from the admin, the API or an alert requests
its services' capture actions after commit; low risk runs at once, high risk waits for an approver;
a capture that fails (or cannot even be requested) is shown on the incident page and listed in the
post-mortem, and never stops the incident from opening."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from actions.choices import Risk, RunStatus
from actions.models import ActionRun, ServiceCapture
from actions.services import action_run_execute
from actions.services.capture import incident_captures_sweep, service_capture_save
from actions.tasks import capture_incident_state
from alerts.services import alert_rule_save, alert_source_create
from alerts.services.closed_loop import closed_loop_verdict
from common.actor import Actor
from incidents.choices import EventKind, UsersAffected
from incidents.models import Incident
from postmortems.markdown import postmortem_markdown
from postmortems.services import postmortem_create
from tests.actions.execution_support import make_action
from tests.admin_support import change_url, form_data
from tests.alerts.support import am_alert, fire
from tests.enqueued import enqueued
from tests.incidents.api_support import client_for, incidents_url

CAPTURE_TASK = "actions.tasks.capture_incident_state"
ADD = reverse("admin:incidents_incident_add")
SYSTEM = Actor.system()


@pytest.fixture
def web(service_factory):
    return service_factory(name="Web", slug="web")


@pytest.fixture
def health_capture(local, web):
    """Web's capture: a low-risk action made from the health-check template, on the local machine."""
    action = make_action(local, "echo 'load 0.10'; df -hP / | tail -n 1", name="Health check")
    action.template_key = "health-check"
    action.save()
    service_capture_save(by=SYSTEM, service=web)  # No action named: the health-check one.
    return action


def captures(incident) -> list[ActionRun]:
    return list(ActionRun.objects.filter(incident=incident, capture_service__isnull=False))


def test_opening_from_the_admin_captures_the_services_state(
    client, responder, priorities, web, health_capture, django_capture_on_commit_callbacks
):
    client.force_login(responder)
    page = client.get(ADD)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            ADD,
            form_data(
                page,
                title="Checkout slow",
                priority=priorities["P2"].pk,
                services=[web.pk],
                users_affected=UsersAffected.MANY,
            ),
        )
    assert response.status_code == 302
    assert CAPTURE_TASK in enqueued(callbacks)
    incident = Incident.objects.get(title="Checkout slow")
    assert captures(incident) == []  # Nothing ran inside the open's transaction.

    capture_incident_state(incident_id=incident.pk)

    (run,) = captures(incident)
    assert run.capture_service == web and run.action == health_capture
    assert run.status == RunStatus.SCHEDULED  # Low risk: at once.
    assert not run.automated and run.requested_by is None and run.requested_label == "state-capture"
    # Told apart from other runs: on the incident page, in the API and in the runs' filter.
    assert "Health check (state capture)" in client.get(change_url(incident)).content.decode()
    assert client_for(responder).get(f"/api/v1/action-runs/{run.pk}/").data["capture_service_id"] == web.pk
    runs_list = reverse("admin:actions_actionrun_changelist")
    assert client.get(runs_list, {"capture_service__isempty": "0"}).context["cl"].result_count == 1


def test_opening_from_the_api_and_from_an_alert_captures_too(
    responder, web, health_capture, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(responder).post(
            incidents_url(), {"title": "API opened", "priority": "P3", "services": ["web"]}, format="json"
        )
    assert response.status_code == 201
    assert CAPTURE_TASK in enqueued(callbacks)
    capture_incident_state(incident_id=response.data["id"])
    assert len(captures(response.data["id"])) == 1

    source, _ = alert_source_create(by=SYSTEM, name="Prometheus", kind="alertmanager")
    alert_rule_save(
        by=SYSTEM,
        data={
            "name": "Down",
            "service": web,
            "matchers": [{"label": "alertname", "op": "eq", "value": "Down"}],
        },
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        (alert,) = fire(source, am_alert("Down"))
    assert alert.incident is not None and CAPTURE_TASK in enqueued(callbacks)
    capture_incident_state(incident_id=alert.incident.pk)
    assert [run.capture_service for run in captures(alert.incident)] == [web]


def test_a_high_risk_capture_waits_for_an_approver(local, web, open_incident):
    action = make_action(local, "uptime", name="Deep capture", risk=Risk.HIGH)
    service_capture_save(by=SYSTEM, service=web, action=action)
    incident = open_incident(services=[web])

    capture_incident_state(incident_id=incident.pk)

    (run,) = captures(incident)
    assert run.status == RunStatus.AWAITING_APPROVAL


def test_the_capture_is_requested_once_however_often_the_task_runs(
    web, health_capture, open_incident, service_factory
):
    other = service_factory(name="Billing")  # No capture action: nothing for it.
    incident = open_incident(services=[web, other])

    capture_incident_state(incident_id=incident.pk)
    capture_incident_state(incident_id=incident.pk)

    assert len(captures(incident)) == 1


def test_a_disabled_capture_captures_nothing(local, web, health_capture, open_incident):
    service_capture_save(by=SYSTEM, service=web, enabled=False)
    incident = open_incident(services=[web])

    capture_incident_state(incident_id=incident.pk)

    assert captures(incident) == []


def test_a_capture_that_cannot_be_requested_leaves_the_incident_open_and_is_shown(
    client, responder, web, health_capture, open_incident
):
    health_capture.enabled = False  # Disabled after it was chosen: the request is refused.
    health_capture.save()
    incident = open_incident(services=[web])

    capture_incident_state(incident_id=incident.pk)

    assert Incident.objects.filter(pk=incident.pk).exists() and captures(incident) == []
    note = incident.timeline_events.get(kind=EventKind.NOTE)
    assert "could not be requested" in note.message and "Health check is disabled" in note.message
    client.force_login(responder)
    html = client.get(change_url(incident)).content.decode()
    assert 'id="incident-snapshot"' in html
    assert 'data-status="not_requested"' in html and "Health check is disabled." in html


def test_a_failed_capture_is_shown_failed_with_its_output(client, responder, local, web, open_incident):
    action = make_action(local, "echo 'disk / 97%'; echo 'disk full' >&2; exit 3", name="Disk capture")
    service_capture_save(by=SYSTEM, service=web, action=action)
    incident = open_incident(services=[web])
    capture_incident_state(incident_id=incident.pk)
    (run,) = captures(incident)

    action_run_execute(run_id=run.pk, task_id=run.task_id)

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    client.force_login(responder)
    html = client.get(change_url(incident)).content.decode()
    snapshot = html[html.index('id="incident-snapshot"') :]
    assert 'data-status="failed"' in snapshot and "snapshot-failed" in snapshot
    assert "disk / 97%" in snapshot and "disk full" in snapshot and "(exit 3)" in snapshot


def test_the_snapshot_panel_says_when_nothing_was_captured(client, responder, open_incident):
    client.force_login(responder)
    html = client.get(change_url(open_incident())).content.decode()
    assert "No state was captured" in html


def test_the_post_mortem_lists_the_snapshots(
    local, web, health_capture, open_incident, service_factory, responder
):
    broken = service_factory(name="Queue", slug="queue")
    refused = make_action(local, "uptime", name="Queue capture")
    service_capture_save(by=SYSTEM, service=broken, action=refused)
    refused.enabled = False
    refused.save()
    incident = open_incident(services=[web, broken])
    capture_incident_state(incident_id=incident.pk)
    (run,) = captures(incident)
    action_run_execute(run_id=run.pk, task_id=run.task_id)

    postmortem = postmortem_create(incident=incident, by=Actor(user=responder, source="admin"))
    text = postmortem_markdown(postmortem)

    docs = text[text.index("## Supporting Documentation") :]
    assert f"- Snapshot: Web, Health check: succeeded, run #{run.pk}" in docs
    assert "- Snapshot: Queue, Queue capture: not requested (action: Queue capture is disabled.)" in docs
    assert "_No links._" not in docs


# --- Choosing the capture action -------------------------------------------------------------------


def test_the_capture_action_defaults_to_the_health_check_and_checks_its_parameters(web, local):
    with pytest.raises(ValidationError) as error:
        service_capture_save(by=SYSTEM, service=web)
    assert "Health check template" in str(error.value.message_dict["action"])

    action = make_action(
        local,
        "echo {{ params.endpoint }}",
        name="HC",
        parameters=[{"name": "endpoint", "pattern": "^[0-9]+$"}],
    )
    action.template_key = "health-check"
    action.save()
    with pytest.raises(ValidationError) as error:
        service_capture_save(by=SYSTEM, service=web, parameters={"endpoint": "80; reboot"})
    assert "parameters.endpoint" in str(error.value.message_dict["parameters"])

    capture = service_capture_save(by=SYSTEM, service=web, parameters={"endpoint": "5432"})
    assert capture.action == action and capture.parameters == {"endpoint": "5432"}


def test_the_api_sets_lists_and_removes_service_captures(
    web, health_capture, catalog_admin, responder, service_factory, django_assert_num_queries
):
    api = client_for(catalog_admin)
    url = "/api/v1/service-captures/"

    created = api.post(url, {"service": "web", "parameters": {}}, format="json")
    assert created.status_code == 201, created.data
    assert created.data["action"] == "Health check" and created.data["service"] == "web"

    bad = api.post(
        url, {"service": "web", "action": health_capture.pk, "parameters": {"nope": "1"}}, format="json"
    )
    assert bad.status_code == 400 and "parameters" in bad.data
    assert client_for(responder).post(url, {"service": "web"}, format="json").status_code == 403

    for n in range(3):
        service_capture_save(by=SYSTEM, service=service_factory(name=f"S{n}"), action=health_capture)
    with django_assert_num_queries(2):  # Count and page, however many captures.
        listed = api.get(url)
    assert listed.status_code == 200 and listed.data["count"] == 4

    assert api.delete(f"{url}{created.data['id']}/").status_code == 204
    assert not ServiceCapture.objects.filter(service=web).exists()


def test_the_admin_sets_a_service_capture_through_the_service(
    client, catalog_admin, health_capture, service_factory
):
    db = service_factory(name="Database", slug="db")
    client.force_login(catalog_admin)
    add = reverse("admin:actions_servicecapture_add")
    page = client.get(add)
    assert page.context["adminform"].form.initial["action"] == health_capture

    bad = client.post(add, form_data(page, service=db.pk, action=health_capture.pk, parameters='{"x": "1"}'))
    assert bad.status_code == 200 and "parameters" in bad.context["adminform"].form.errors
    assert not ServiceCapture.objects.filter(service=db).exists()

    saved = client.post(add, form_data(page, service=db.pk, action="", parameters="{}"))
    assert saved.status_code == 302
    assert ServiceCapture.objects.get(service=db).action == health_capture  # Blank: the health check.


def test_the_beat_sweep_requests_a_capture_whose_task_was_lost(web, health_capture, open_incident, local):
    incident = open_incident(services=[web])  # Its task never ran.
    refused = make_action(local, "uptime", name="Refused")
    other = open_incident(services=[web])
    capture_incident_state(incident_id=other.pk)  # Its task ran: nothing left to do.

    assert incident_captures_sweep() == []  # Too recent: its own task may still come.
    later = timezone.now() + timedelta(minutes=5)
    (run,) = incident_captures_sweep(now=later)
    assert run.incident == incident and run.capture_service == web
    assert incident_captures_sweep(now=later) == []
    assert incident_captures_sweep(now=timezone.now() + timedelta(hours=2)) == []  # Too old.

    service_capture_save(by=SYSTEM, service=web, action=refused)
    refused.enabled = False
    refused.save()
    third = open_incident(services=[web])
    capture_incident_state(incident_id=third.pk)
    incident_captures_sweep(now=later)
    assert third.timeline_events.filter(kind=EventKind.NOTE).count() == 1  # Said once, not each sweep.


def test_the_admin_changelist_runs_a_fixed_number_of_queries(
    client, catalog_admin, health_capture, service_factory, django_assert_num_queries
):
    for n in range(4):
        service_capture_save(by=SYSTEM, service=service_factory(name=f"S{n}"), action=health_capture)
    client.force_login(catalog_admin)

    with django_assert_num_queries(6):  # Session, user, permissions (2), count, page.
        response = client.get(reverse("admin:actions_servicecapture_changelist"))

    assert response.status_code == 200 and "S3" in response.content.decode()


def test_the_closed_loop_neither_credits_nor_waits_on_a_capture(local, web, open_incident):
    source, _ = alert_source_create(by=SYSTEM, name="Prometheus", kind="alertmanager")
    alert_rule_save(
        by=SYSTEM,
        data={
            "name": "Down",
            "service": web,
            "matchers": [{"label": "alertname", "op": "eq", "value": "Down"}],
        },
    )
    failing = make_action(local, "echo 'disk 97%' >&2; exit 1", name="Disk capture")
    service_capture_save(by=SYSTEM, service=web, action=failing)
    (alert,) = fire(source, am_alert("Down"))
    capture_incident_state(incident_id=alert.incident.pk)
    (run,) = captures(alert.incident)
    action_run_execute(run_id=run.pk, task_id=run.task_id)
    fire(source, am_alert("Down", status="resolved"))

    fixer, reason = closed_loop_verdict(Incident.objects.get(pk=alert.incident.pk))

    assert fixer is None and reason == "no automated run succeeded"  # Not "did not succeed".


def test_an_incident_opened_without_a_service_sends_no_capture_task(
    priorities, health_capture, django_capture_on_commit_callbacks
):
    """Captures are per service: nothing to request, so no message (an alert storm opens many)."""
    from incidents.services import incident_create

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        incident_create(by=SYSTEM, title="No service named", priority=priorities["P3"])
    assert CAPTURE_TASK not in enqueued(callbacks)
    assert captures(Incident.objects.get(title="No service named")) == []
