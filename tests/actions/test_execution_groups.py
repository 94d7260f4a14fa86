"""Group steps on the local provider: every host in parallel, and the partial failure policy."""

import pytest

from actions.choices import FailurePolicy, ProviderKind, RunStatus, StepStatus, TargetKind
from actions.models import Provider, ProviderGroup
from actions.services import action_run_execute, action_run_request, action_save
from tests.actions.execution_support import SYSTEM, step_runs


@pytest.mark.django_db(transaction=True)
def test_a_group_step_runs_on_every_host_in_parallel_and_records_each(settings):
    settings.ALLOW_LOCAL_PROVIDER = True
    hosts = [
        Provider.objects.create(name=f"node-{i}", kind=ProviderKind.LOCAL, tags=["web"]) for i in range(4)
    ]
    group = ProviderGroup.objects.create(name="web nodes", tag_selector=["web"], max_parallel=4)
    action = action_save(
        by=SYSTEM,
        data={"name": "Fan out"},
        steps=[
            {"name": "sleep", "target_kind": TargetKind.GROUP, "provider_group": group, "command": "sleep 1"},
        ],
    )
    run = action_run_request(action=action, by=SYSTEM)
    action_run_execute(run_id=run.pk, task_id=run.task_id)

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    results = step_runs(run)
    assert sorted(s.provider_id for s in results) == sorted(h.pk for h in hosts)
    # In parallel: every host had started before the first one finished its one-second sleep.
    assert max(s.started_at for s in results) < min(s.finished_at for s in results)


@pytest.mark.django_db(transaction=True)
def test_partial_failure_policy(settings, tmp_path):
    settings.ALLOW_LOCAL_PROVIDER = True
    a = Provider.objects.create(name="a", kind=ProviderKind.LOCAL)
    b = Provider.objects.create(name="b", kind=ProviderKind.LOCAL)
    group = ProviderGroup.objects.create(name="pair", max_parallel=2)
    group.providers.set([a, b])
    # Fails on the first host to take the lock file, succeeds on the other.
    command = f"mkdir {tmp_path / 'lock'} 2>/dev/null && exit 1 || exit 0"
    for policy, expected in (
        (FailurePolicy.ALL_MUST_SUCCEED, RunStatus.FAILED),
        (FailurePolicy.CONTINUE_ON_PARTIAL, RunStatus.SUCCEEDED),
    ):
        (tmp_path / "lock").exists() and (tmp_path / "lock").rmdir()
        action = action_save(
            by=SYSTEM,
            data={"name": f"Pair {policy}"},
            steps=[
                {
                    "name": "x",
                    "target_kind": TargetKind.GROUP,
                    "provider_group": group,
                    "command": command,
                    "failure_policy": policy,
                }
            ],
        )
        run = action_run_request(action=action, by=SYSTEM)
        action_run_execute(run_id=run.pk, task_id=run.task_id)
        run.refresh_from_db()
        assert sorted(s.status for s in step_runs(run)) == [StepStatus.FAILED, StepStatus.SUCCEEDED]
        assert run.status == expected
