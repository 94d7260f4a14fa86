"""Running actions from the admin: the Run action form (from an incident or an action), the run page
with its output, and the Approve / Reject / Cancel buttons."""

from unittest import mock

import pytest
from django.urls import reverse

from actions.choices import Risk, RunStatus, StepStatus
from actions.models import ActionRun
from incidents.choices import EventKind
from tests.actions.run_support import decide_url, run_url
from tests.admin_support import flashed

RUN = reverse("admin:actions_action_run")
GROUPS = ("viewer", "responder", "approver", "catalog_admin", "admin_user")


def incident_url(incident) -> str:
    return reverse("admin:incidents_incident_change", args=[incident.pk])


# --- Run action from the incident page -------------------------------------------------------------


def test_incident_page_has_a_run_action_button(client, responder, viewer, open_incident):
    incident = open_incident()
    client.force_login(responder)

    html = client.get(incident_url(incident)).content.decode()

    assert f'href="{RUN}?incident={incident.pk}"' in html
    client.force_login(viewer)
    assert "incident-run-action" not in client.get(incident_url(incident)).content.decode()


def test_run_from_the_incident_page_creates_a_run_and_enqueues_it(
    client, responder, open_incident, health_check, django_capture_on_commit_callbacks
):
    incident = open_incident()
    client.force_login(responder)

    choose = client.get(RUN, {"incident": incident.pk})
    assert choose.status_code == 200
    assert "Health check" in choose.content.decode()
    assert incident.reference in choose.content.decode()

    page = client.get(RUN, {"incident": incident.pk, "action": health_check.pk})
    assert page.status_code == 200
    form = page.context["form"]
    assert list(form.fields) == ["param_endpoint", "param_service", "require_approval"]
    assert form["param_endpoint"].value() == "22"
    assert form.fields["param_service"].required

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            f"{RUN}?incident={incident.pk}&action={health_check.pk}",
            {"param_endpoint": "", "param_service": "nginx"},
        )

    run = ActionRun.objects.get()
    assert response.status_code == 302
    assert response.url == run_url(run)
    assert (run.action, run.incident, run.requested_by) == (health_check, incident, responder)
    assert run.parameters == {"endpoint": "22", "service": "nginx"}
    assert run.status == RunStatus.SCHEDULED and run.task_id
    assert flashed(response) == [f"Started Health check (run #{run.pk}): its output appears below."]
    # The execute task is enqueued after commit, on its id; nothing runs here.
    assert len(callbacks) == 1
    with mock.patch("actions.tasks.execute_action_run.apply_async") as apply_async:
        callbacks[0]()
    apply_async.assert_called_once_with(kwargs={"run_id": run.pk}, task_id=run.task_id, eta=None, retry=False)
    assert incident.timeline_events.filter(kind=EventKind.ACTION_REQUESTED).exists()

    html = client.get(incident_url(incident)).content.decode()
    assert "Action runs" in html
    assert f'href="{run_url(run)}">#{run.pk}</a>' in html
    assert "run-scheduled" in html


def test_run_parameters_are_checked_by_the_service(
    client, responder, open_incident, health_check, django_capture_on_commit_callbacks
):
    incident = open_incident()
    client.force_login(responder)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            f"{RUN}?incident={incident.pk}&action={health_check.pk}",
            {"param_endpoint": "80; rm -rf /", "param_service": "nginx"},
        )

    assert response.status_code == 200
    assert response.context["form"].errors["param_endpoint"] == ["Must match ^[0-9]+$."]
    assert not ActionRun.objects.exists() and not callbacks


def test_asking_for_approval_waits_for_an_approver(client, responder, open_incident, health_check):
    incident = open_incident()
    client.force_login(responder)

    response = client.post(
        f"{RUN}?incident={incident.pk}&action={health_check.pk}",
        {"param_service": "nginx", "require_approval": "on"},
    )

    run = ActionRun.objects.get()
    assert run.status == RunStatus.AWAITING_APPROVAL
    assert "waits for an approver other than you" in flashed(response)[0]


def test_high_risk_actions_always_ask(client, responder, health_check):
    health_check.risk = Risk.HIGH
    health_check.save()
    client.force_login(responder)

    page = client.get(RUN, {"action": health_check.pk})
    assert page.context["form"].fields["require_approval"].disabled
    assert "Request approval" in page.content.decode()
    client.post(f"{RUN}?action={health_check.pk}", {"param_service": "nginx"})

    assert ActionRun.objects.get().status == RunStatus.AWAITING_APPROVAL


def test_run_view_needs_the_run_permission_and_an_enabled_action(client, viewer, responder, health_check):
    client.force_login(viewer)
    assert client.get(RUN).status_code == 403
    assert client.post(f"{RUN}?action={health_check.pk}", {"param_service": "x"}).status_code == 403

    health_check.enabled = False
    health_check.save()
    client.force_login(responder)
    response = client.get(RUN, {"action": health_check.pk})
    assert response.status_code == 200
    assert response.context["choose_form"] is not None
    assert "Health check is disabled" in flashed(response)[0]
    assert client.get(RUN, {"action": 999999}).status_code == 404
    assert client.get(RUN, {"incident": "nope"}).status_code == 404
    assert not ActionRun.objects.exists()


# --- The run page ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", GROUPS)
def test_run_pages_render_for_every_group(client, request, who, action_run_factory, step_run_factory):
    run = action_run_factory(finished=True)
    step_run_factory(run=run)
    client.force_login(request.getfixturevalue(who))

    assert client.get(reverse("admin:actions_actionrun_changelist")).status_code == 200
    response = client.get(run_url(run))
    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()


def test_run_page_shows_each_step_output(client, viewer, action_run_factory, step_run_factory):
    run = action_run_factory(finished=True, status=RunStatus.FAILED, error="Verify: exit 7")
    step_run_factory(run=run, step_order=10, step_name="Check", stdout="all <good>\n", host="web-1")
    step_run_factory(
        run=run,
        step_order=20,
        step_name="Verify",
        status=StepStatus.FAILED,
        exit_code=7,
        attempts=3,
        stdout="x" * 100,
        stdout_truncated=True,
        stderr="curl: (7) Failed to connect\n",
        error="",
    )
    step_run_factory(
        run=run,
        step_order=30,
        step_name="Notify",
        status=StepStatus.SKIPPED,
        provider=None,
        host="",
        command="",
        stdout="",
        exit_code=None,
        attempts=0,
        error="Condition not met: If the previous step succeeded.",
    )
    client.force_login(viewer)

    html = client.get(run_url(run)).content.decode()

    steps = html[html.index('id="run-steps"') :]
    assert steps.index("Check") < steps.index("Verify") < steps.index("Notify")
    assert '<pre class="run-output run-stdout" data-keep="stdout-' in html
    assert "all &lt;good&gt;" in html
    assert "curl: (7) Failed to connect" in html
    assert "run-stderr" in html
    assert "exit code <strong>7</strong>" in html
    assert "3 attempts" in html
    assert "stdout was cut at 256 KiB" in html
    assert "Verify: exit 7" in html
    assert "run-failed" in html
    assert 'data-run-live="0"' in html
    assert "run_live.js" not in html


def test_run_page_refreshes_while_the_run_is_under_way(client, viewer, action_run_factory, step_run_factory):
    run = action_run_factory(status=RunStatus.RUNNING)
    step_run_factory(
        run=run, status=StepStatus.RUNNING, stdout="working...\n", exit_code=None, finished_at=None
    )
    client.force_login(viewer)

    html = client.get(run_url(run)).content.decode()

    assert 'data-run-live="1"' in html
    assert "actions/run_live.js" in html
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in html
    assert "working..." in html


def test_run_page_lists_steps_not_started_yet(client, viewer, runnable_action, action_run_factory):
    action = runnable_action(name="Two steps")
    first = action.steps.get()
    action.steps.create(name="Later", command="true", provider=first.provider, order=first.order + 10)
    run = action_run_factory(action=action, status=RunStatus.SCHEDULED)
    client.force_login(viewer)

    html = client.get(run_url(run)).content.decode()

    assert html.count("· not started") == 2
    assert "Later" in html


def test_an_approver_sees_what_would_run(client, approver, awaiting):
    client.force_login(approver)

    html = client.get(run_url(awaiting)).content.decode()

    assert "· not started" in html
    assert "Command, as it will run" in html
    assert "echo 22 nginx" in html  # Rendered: exactly what runs.
    assert f"on <strong>{awaiting.action.steps.get().provider.label}</strong>" in html
    assert "timeout 60 s" in html
    assert "Needs approval: The request asked for an approver." in html


def test_the_approval_page_shows_the_snapshot_not_the_action_as_edited_since(client, approver, awaiting):
    step = awaiting.action.steps.get()
    step.command = "echo edited after the request"
    step.timeout_seconds = 5
    step.save()
    client.force_login(approver)

    for url in (run_url(awaiting), decide_url(awaiting, "approve")):
        html = client.get(url).content.decode()
        assert "echo 22 nginx" in html
        assert "timeout 60 s" in html
        assert "edited after the request" not in html


def test_run_changelist_query_count_is_constant(
    client, admin_user, action_run_factory, open_incident, user_factory, django_assert_num_queries
):
    incident = open_incident()
    people = [user_factory(), user_factory()]

    def make(n):
        for i in range(n):
            action_run_factory(finished=True, incident=incident, requested_by=people[i % 2])

    url = reverse("admin:actions_actionrun_changelist")
    client.force_login(admin_user)
    client.get(url)
    make(1)
    # Session, user, the action filter's choices, page count, the page with its joins.
    with django_assert_num_queries(5):
        response = client.get(url)
    assert len(response.context["cl"].result_list) == 1

    make(29)
    with django_assert_num_queries(5):
        response = client.get(url)
    assert len(response.context["cl"].result_list) == 30
    assert "run-succeeded" in response.content.decode()
