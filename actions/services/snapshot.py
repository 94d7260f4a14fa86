"""What a run will execute, fixed when it is requested: each step's hosts, rendered command,
timeout, retries and condition, and why it did or did not need approval.

The approver approves this snapshot and the executor runs only it, so editing the action (its
commands, targets or risk) after a request never changes that run. Stored on ActionRun.snapshot as:

    {"version": 1,
     "action": {"id", "name", "risk"},
     "approval": {"required": bool, "reasons": [str]},
     "steps": [{"step_id", "order", "name", "condition", "failure_policy", "timeout_seconds",
                "retries", "retry_delay_seconds", "template", "command", "target",
                "hosts": [{"provider_id", "host"}], "max_parallel", "error"}]}

`command` is the rendered command (values quoted), `template` the step's command as written, kept
so the executor can check the placeholders' placement again; `error` says why a step cannot run
(unknown host, a placeholder naming nothing, an unsafe placement) and is the step's result."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from actions.choices import StepCondition, TargetKind
from actions.models import Action, ActionRun, ActionStep, Provider
from actions.placement import placement_problems
from actions.templating import TemplateError, render_command
from incidents.models import Incident

VERSION = 1
LEGACY_ERROR = (
    "This run was requested before runs recorded the commands they execute; nothing of it runs. "
    "Request it again."
)


class TargetError(Exception):
    """The step's hosts cannot be determined (disabled provider, empty group, unknown host)."""


@dataclass(frozen=True)
class PlannedHost:
    provider_id: int
    host: str  # the provider's label when the run was requested


@dataclass
class PlannedStep:
    """One step as the snapshot fixed it; read by the executor like an ActionStep."""

    step_id: int | None
    order: int
    name: str
    condition: str
    failure_policy: str
    timeout_seconds: int
    retries: int
    retry_delay_seconds: int
    template: str
    command: str
    target: str
    hosts: list[PlannedHost]
    max_parallel: int
    error: str

    def get_condition_display(self) -> str:
        return str(StepCondition(self.condition).label)

    @property
    def worst_case_seconds(self) -> int:
        """Longest this step can take on one host: every attempt timing out, plus the waits."""
        return (self.retries + 1) * self.timeout_seconds + self.retries * self.retry_delay_seconds

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> "PlannedStep":
        hosts = [PlannedHost(provider_id=h["provider_id"], host=h["host"]) for h in data.get("hosts", [])]
        fields = {name: data[name] for name in cls.__dataclass_fields__ if name != "hosts"}
        return cls(hosts=hosts, **fields)


def template_context(
    *, parameters: dict[str, str], incident: Incident | None, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What a command's placeholders can name: params.*, incident.*, and what the caller adds
    (alert.* for a run an alert rule's automated response requested)."""
    context: dict[str, Any] = {"params": dict(parameters), **(extra or {})}
    if incident is not None:
        context["incident"] = {
            "id": incident.pk,
            "reference": incident.reference,
            "title": incident.title,
            "status": incident.status,
        }
    return context


def step_targets(*, step: ActionStep, parameters: dict[str, str]) -> list[Provider]:
    """The enabled providers a step runs on."""
    if step.target_kind == TargetKind.PROVIDER:
        if not step.provider.enabled:
            raise TargetError(f"Provider {step.provider.name} is disabled.")
        return [step.provider]
    if step.target_kind == TargetKind.GROUP:
        group = step.provider_group
        selector = set(group.tag_selector or [])
        listed = {p.pk for p in group.providers.all()}
        hosts = [
            p
            for p in Provider.objects.filter(enabled=True)
            if p.pk in listed or (selector and selector <= set(p.tags or []))
        ]
        if not hosts:
            raise TargetError(f"Group {group.name} has no enabled providers.")
        return hosts
    value = (parameters.get(step.target_parameter) or "").strip()
    if not value:
        raise TargetError(f"Parameter '{step.target_parameter}' names no host.")
    # Alertmanager's `instance` label is host:port; the port is the exporter's, not SSH's.
    host = _host_of(value)
    provider = Provider.objects.filter(Q(address=host) | Q(name=host), enabled=True).order_by("pk").first()
    if provider is None:
        raise TargetError(f"No enabled provider has the address or name {host!r}.")
    return [provider]


def _host_of(instance: str) -> str:
    """`web-1:9100` -> `web-1`, `[::1]:9100` -> `::1`; a bare IPv6 address or name stays as it is."""
    if instance.startswith("["):
        return instance[1:].split("]", 1)[0]
    if instance.count(":") == 1:
        return instance.split(":", 1)[0]
    return instance


def _target_text(step: ActionStep) -> str:
    if step.target_kind == TargetKind.GROUP:
        return f"every host of {step.provider_group.name}"
    if step.target_kind == TargetKind.TRIGGER:
        return f"the host named by {step.target_parameter}"
    return step.provider.label


def unsafe_placement_error(template: str) -> str:
    """The step error for a command whose placeholders stand where quoting does not hold."""
    problems = placement_problems(template)
    if not problems:
        return ""
    return "Refused: unsafe command. " + " ".join(str(p) for p in problems)


def _planned_step(step: ActionStep, context: dict[str, Any], parameters: dict[str, str]) -> dict[str, Any]:
    planned: dict[str, Any] = {
        "step_id": step.pk,
        "order": step.order,
        "name": step.name,
        "condition": step.condition,
        "failure_policy": step.failure_policy,
        "timeout_seconds": step.timeout_seconds,
        "retries": step.retries,
        "retry_delay_seconds": step.retry_delay_seconds,
        "template": step.command,
        "command": "",
        "target": _target_text(step),
        "hosts": [],
        "max_parallel": step.provider_group.max_parallel if step.target_kind == TargetKind.GROUP else 1,
        "error": unsafe_placement_error(step.command),
    }
    if planned["error"]:
        return planned  # Never rendered: an unsafe command is not even shown filled in.
    try:
        planned["command"] = render_command(step.command, context)
        hosts = step_targets(step=step, parameters=parameters)
    except (TargetError, TemplateError) as exc:
        planned["error"] = str(exc)
    else:
        planned["hosts"] = [{"provider_id": p.pk, "host": p.label} for p in hosts]
    return planned


# What a snapshot reads with each step.
SNAPSHOT_STEP_RELATED = ("provider", "provider_group")


def run_snapshot_build(
    *,
    action: Action,
    parameters: dict[str, str],
    incident: Incident | None,
    approval_reasons: list[str],
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The snapshot of a run being requested (see the module's docstring). Steps the caller
    prefetched, in the same transaction (alert processing, with its responses' actions, with
    SNAPSHOT_STEP_RELATED), are not read again."""
    full_context = template_context(parameters=parameters, incident=incident, extra=context)
    prefetched = getattr(action, "_prefetched_objects_cache", {}).get("steps")
    if prefetched is not None:
        steps = sorted(prefetched, key=lambda step: (step.order, step.pk))
    else:
        steps = action.steps.select_related(*SNAPSHOT_STEP_RELATED).order_by("order", "id")
    return {
        "version": VERSION,
        "action": {"id": action.pk, "name": action.name, "risk": action.risk},
        "approval": {"required": bool(approval_reasons), "reasons": approval_reasons},
        "steps": [_planned_step(step, full_context, parameters) for step in steps],
    }


def run_planned_steps(run: ActionRun) -> list[PlannedStep]:
    """The run's steps as its snapshot fixed them; a link to an action step deleted since (the
    action was edited) is dropped, the step itself runs as it was approved."""
    steps = [PlannedStep.from_snapshot(data) for data in (run.snapshot or {}).get("steps", [])]
    ids = [s.step_id for s in steps if s.step_id is not None]
    existing = set(ActionStep.objects.filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
    for step in steps:
        if step.step_id not in existing:
            step.step_id = None
    return steps
