"""A run executes exactly what was requested and approved: the snapshot it stored at the request
(hosts, rendered commands, timeouts, retries, conditions, the approval decision). Editing the action
afterwards, before or after the approval, changes nothing about that run."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from actions.checks import unsafe_step_commands
from actions.choices import ProviderKind, Risk, RunStatus, StepCondition, StepStatus, TargetKind
from actions.models import ActionRun, ActionStep, Provider, ProviderGroup
from actions.services import (
    action_run_approve,
    action_run_execute,
    action_run_request,
    action_save,
)
from actions.services.execution import run_time_budget
from actions.services.snapshot import LEGACY_ERROR
from common.actor import Actor, Source
from tests.actions.api_support import api_url, token_client

SYSTEM = Actor.system(source=Source.TASK, label="tests")


@pytest.fixture(autouse=True)
def _local_allowed(settings):
    settings.ALLOW_LOCAL_PROVIDER = True


@pytest.fixture
def here(db) -> Provider:
    return Provider.objects.create(name="here", kind=ProviderKind.LOCAL)


@pytest.fixture
def people(user_factory):
    return (
        Actor(user=user_factory(groups=["Responder"]), source=Source.API),
        Actor(user=user_factory(groups=["Approver"]), source=Source.API),
    )


def high_risk(here, tmp_path, **changes):
    return action_save(
        by=SYSTEM,
        data={"name": "Restart", "risk": Risk.HIGH, "parameters": [{"name": "unit", "default": "nginx"}]},
        steps=[
            {
                "name": "Restart",
                "command": f"echo restarting {{{{ params.unit }}}} >> {tmp_path / 'ran'}",
                "provider": here,
                "timeout_seconds": 30,
                "retries": 1,
                "retry_delay_seconds": 0,
            },
            {
                "name": "Report",
                "command": "echo done",
                "provider": here,
                "condition": StepCondition.PREVIOUS_SUCCESS,
            },
        ],
    )


def edit_to_something_else(action, here, tmp_path):
    """What an attacker with catalog rights (or a careless edit) would do to a pending run."""
    action_save(
        by=SYSTEM,
        action=action,
        data={"risk": Risk.LOW},
        steps=[
            {
                "name": "Evil",
                "command": f"touch {tmp_path / 'canary'}",
                "provider": here,
                "timeout_seconds": 5,
            },
        ],
    )


def execute(run: ActionRun) -> ActionRun:
    run.refresh_from_db()
    action_run_execute(run_id=run.pk, task_id=run.task_id)
    return ActionRun.objects.get(pk=run.pk)


def test_the_snapshot_records_what_will_run_and_why_it_needs_approval(here, tmp_path, people):
    requester, _ = people
    run = action_run_request(action=high_risk(here, tmp_path), by=requester, parameters={"unit": "api"})

    assert run.snapshot["approval"] == {"required": True, "reasons": ["The action is high-risk."]}
    assert run.snapshot["action"]["risk"] == Risk.HIGH
    first, second = run.snapshot["steps"]
    assert first["command"] == f"echo restarting api >> {tmp_path / 'ran'}"
    assert first["template"] == f"echo restarting {{{{ params.unit }}}} >> {tmp_path / 'ran'}"
    assert first["hosts"] == [{"provider_id": here.pk, "host": here.label}]
    assert (first["timeout_seconds"], first["retries"], first["condition"]) == (30, 1, StepCondition.ALWAYS)
    assert second["condition"] == StepCondition.PREVIOUS_SUCCESS
    assert first["error"] == second["error"] == ""


def test_an_edit_after_the_request_does_not_change_what_the_approver_approves(here, tmp_path, people):
    requester, approver = people
    action = high_risk(here, tmp_path)
    run = action_run_request(action=action, by=requester)

    edit_to_something_else(action, here, tmp_path)
    run = action_run_approve(run=run, by=approver)
    run = execute(run)

    assert run.status == RunStatus.SUCCEEDED
    assert [(s.step_name, s.command) for s in run.step_runs.order_by("step_order")] == [
        ("Restart", f"echo restarting nginx >> {tmp_path / 'ran'}"),
        ("Report", "echo done"),
    ]
    assert (tmp_path / "ran").read_text() == "restarting nginx\n"
    assert not (tmp_path / "canary").exists()


def test_an_edit_after_the_approval_does_not_change_what_runs(here, tmp_path, people):
    requester, approver = people
    action = high_risk(here, tmp_path)
    run = action_run_approve(run=action_run_request(action=action, by=requester), by=approver)

    edit_to_something_else(action, here, tmp_path)
    run = execute(run)

    assert run.status == RunStatus.SUCCEEDED
    assert (tmp_path / "ran").read_text() == "restarting nginx\n"
    assert not (tmp_path / "canary").exists()
    # The edit deleted the steps: the results keep no link to rows that no longer say what ran.
    assert list(run.step_runs.values_list("step_id", flat=True)) == [None, None]


def test_lowering_the_risk_does_not_let_a_waiting_run_skip_its_approval(here, tmp_path, people):
    requester, _ = people
    action = high_risk(here, tmp_path)
    run = action_run_request(action=action, by=requester)

    action_save(by=SYSTEM, action=action, data={"risk": Risk.LOW})

    run.refresh_from_db()
    assert run.status == RunStatus.AWAITING_APPROVAL
    assert run.snapshot["approval"]["required"] is True
    assert action_run_execute(run_id=run.pk, task_id=run.task_id) is None
    assert not (tmp_path / "ran").exists()


def test_a_host_changed_after_the_request_is_refused_not_used(here, tmp_path, people):
    requester, approver = people
    run = action_run_request(action=high_risk(here, tmp_path), by=requester)
    Provider.objects.filter(pk=here.pk).update(name="somewhere else")

    run = execute(action_run_approve(run=run, by=approver))

    first = run.step_runs.order_by("step_order").first()
    assert first.status == StepStatus.FAILED
    assert "changed after the run was requested" in first.error
    assert not (tmp_path / "ran").exists()


def test_a_group_runs_on_the_hosts_it_had_when_requested(db):
    one = Provider.objects.create(name="one", kind=ProviderKind.LOCAL)
    two = Provider.objects.create(name="two", kind=ProviderKind.LOCAL)
    group = ProviderGroup.objects.create(name="pair", max_parallel=1)
    group.providers.set([one])
    action = action_save(
        by=SYSTEM,
        data={"name": "Fan out"},
        steps=[{"name": "x", "target_kind": TargetKind.GROUP, "provider_group": group, "command": "true"}],
    )
    run = action_run_request(action=action, by=SYSTEM)
    group.providers.set([one, two])

    run = execute(run)

    assert [s.provider_id for s in run.step_runs.all()] == [one.pk]
    assert run_time_budget(run) == 60


def test_the_run_stores_its_extra_context_and_runs_what_was_rendered_from_it(here, tmp_path):
    action = action_save(
        by=SYSTEM,
        data={"name": "Note"},
        steps=[
            {"name": "x", "provider": here, "command": f"echo {{{{ alert.name }}}} >> {tmp_path / 'ran'}"}
        ],
    )
    person = action_run_request(action=action, by=SYSTEM, context={"alert": {"name": "one"}})
    automated = action_run_request(
        action=action, by=SYSTEM, context={"alert": {"name": "two"}}, automated=True
    )
    ActionRun.objects.filter(pk=automated.pk).update(context={"alert": {"name": "changed"}})

    execute(person), execute(automated)

    person.refresh_from_db(), automated.refresh_from_db()
    assert (person.automated, automated.automated) == (False, True)
    assert person.context == {"alert": {"name": "one"}}
    assert (tmp_path / "ran").read_text() == "one\ntwo\n"  # The snapshot, not the context, runs.


def test_a_run_requested_before_snapshots_runs_nothing(here, tmp_path):
    action = high_risk(here, tmp_path)
    action_save(by=SYSTEM, action=action, data={"risk": Risk.LOW})
    run = action_run_request(action=action, by=SYSTEM)
    ActionRun.objects.filter(pk=run.pk).update(snapshot={})  # As the migration leaves older runs.

    run = execute(run)

    assert run.status == RunStatus.FAILED
    assert LEGACY_ERROR in run.error
    assert not run.step_runs.exists()
    assert not (tmp_path / "ran").exists()


def test_the_run_api_shows_the_snapshot(here, tmp_path, people, approver):
    requester, _ = people
    run = action_run_request(action=high_risk(here, tmp_path), by=requester)
    edit_to_something_else(run.action, here, tmp_path)

    data = token_client(approver).get(api_url("action-runs", run)).json()

    assert data["snapshot"]["approval"]["required"] is True
    assert [s["command"] for s in data["snapshot"]["steps"]] == [
        f"echo restarting nginx >> {tmp_path / 'ran'}",
        "echo done",
    ]


def test_the_system_check_lists_stored_unsafe_steps(here, db):
    action = action_save(
        by=SYSTEM,
        data={"name": "Old", "parameters": [{"name": "x"}]},
        steps=[
            {"name": "Fine", "command": "echo {{ params.x }}", "provider": here},
        ],
    )
    ActionStep.objects.create(
        action=action, order=20, name="Quoted", command='echo "{{ params.x }}"', provider=here
    )

    [warning] = unsafe_step_commands(databases=["default"])

    assert warning.id == "actions.W001"
    assert "Action 'Old', step 20 (Quoted)" in warning.msg
    assert "inside double quotes" in warning.msg
    assert unsafe_step_commands() == []  # Only when the databases are checked.
    with pytest.raises(SystemCheckError):
        call_command("check", "--database", "default", "--fail-level", "WARNING")
