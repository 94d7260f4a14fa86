"""The five command shapes the hostile corpus goes through, on the run API and the alert webhook.

Two are safe and are saved through action_save; three put the placeholder where quoting does not
hold. Those are refused at save, so the injection tests store them as a database written before the
rule would hold them: the executor must refuse them on its own."""

from contextlib import contextmanager

from actions.choices import RunStatus, StepStatus, TargetKind
from actions.models import Action, ActionRun, ActionStep, Provider
from actions.services import action_save
from common.actor import Actor
from config.celery import app

VALUE = "{{ params.value }}"
SAFE_SHAPES = {
    "word": f"printf '%s' {VALUE}",
    "assignment": f"value={VALUE}\nprintf '%s' \"$value\"",
}
UNSAFE_SHAPES = {
    "double quotes": (f"printf '%s' \"{VALUE}\"", "inside double quotes"),
    "single quotes": (f"printf '%s' '{VALUE}'", "inside single quotes"),
    "sh -c": (f"sh -c {VALUE}", "reaches sh -c"),
}


def shaped_action(provider: Provider, *, name: str, pattern: str = "") -> Action:
    """An action with one step per shape, each run whatever the previous one did."""
    declaration = {"name": "value", "required": False, **({"pattern": pattern} if pattern else {})}
    action = action_save(
        by=Actor.system(),
        data={"name": name, "parameters": [declaration]},
        steps=[
            {"name": shape, "command": command, "target_kind": TargetKind.PROVIDER, "provider": provider}
            for shape, command in SAFE_SHAPES.items()
        ],
    )
    for index, (shape, (command, _)) in enumerate(UNSAFE_SHAPES.items(), start=len(SAFE_SHAPES) + 1):
        ActionStep.objects.create(
            action=action, order=index * 10, name=shape, command=command, provider=provider
        )
    return action


def assert_only_the_safe_shapes_ran_literally(run: ActionRun, value: str) -> None:
    run.refresh_from_db()
    steps = list(run.step_runs.order_by("step_order", "id"))
    assert [s.step_name for s in steps] == [*SAFE_SHAPES, *UNSAFE_SHAPES]
    for step in steps[: len(SAFE_SHAPES)]:
        assert (step.status, step.exit_code) == (StepStatus.SUCCEEDED, 0), (
            step.step_name,
            step.error,
            step.stderr,
        )
        assert step.stdout == value, step.step_name
    for step, (_, why) in zip(steps[len(SAFE_SHAPES) :], UNSAFE_SHAPES.values(), strict=True):
        assert step.status == StepStatus.FAILED
        assert step.error.startswith("Refused: unsafe command."), step.error
        assert why in step.error
        assert step.attempts == 0 and step.command == ""  # Never sent to a host.
    assert run.status == RunStatus.FAILED


@contextmanager
def eager_tasks():
    """Celery's own eager mode: a task enqueued after commit runs at once, in this process."""
    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.task_eager_propagates = saved
