"""What the executor tests share: actions whose steps run on the local provider, and running them
the way the worker does."""

from django.db import connection

from actions.choices import Risk, RunStatus, TargetKind
from actions.models import ActionRun
from actions.services import action_run_execute, action_run_request, action_save
from common.actor import Actor, Source

SYSTEM = Actor.system(source=Source.TASK, label="tests")


def in_thread(fn):
    """A worker thread's own database connection must be closed when it is done."""

    def run(**kwargs):
        try:
            fn(**kwargs)
        finally:
            connection.close()

    return run


def make_action(local, *steps, parameters=None, risk=Risk.LOW, name="Remedy"):
    specs = []
    for i, step in enumerate(steps, start=1):
        spec = {
            "name": f"step {i}",
            "target_kind": TargetKind.PROVIDER,
            "provider": local,
            "timeout_seconds": 10,
        }
        spec.update(step if isinstance(step, dict) else {"command": step})
        specs.append(spec)
    return action_save(
        by=SYSTEM, data={"name": name, "parameters": parameters or [], "risk": risk}, steps=specs
    )


def execute(action, *, parameters=None, incident=None, by=SYSTEM):
    run = action_run_request(action=action, by=by, parameters=parameters or {}, incident=incident)
    assert run.status == RunStatus.SCHEDULED
    action_run_execute(run_id=run.pk, task_id=run.task_id)
    return ActionRun.objects.get(pk=run.pk)


def step_runs(run):
    return list(run.step_runs.order_by("step_order", "id"))
