"""The shipped action templates: each one is a valid action and its commands are sound POSIX sh;
and the gallery page that clones them. Running them on this machine: test_templates_at_work.py."""

import subprocess

import pytest
from django.core.exceptions import ValidationError

from actions import template_library
from actions.choices import TargetKind
from actions.models import Action, Provider
from actions.parameters import parameters_validate
from actions.services import (
    action_create_from_template,
)
from actions.template_library import TEMPLATES, template_list
from actions.templating import placeholders, render_command
from common.actor import Actor, Source
from common.exceptions import PermissionDeniedError

SYSTEM = Actor.system(source=Source.CLI, label="tests")
KEYS = [t["key"] for t in TEMPLATES]
# Values for the parameters a template requires (the others have defaults).
REQUIRED = {"service": "nginx.service", "source": "/srv/app/data"}


@pytest.fixture
def local(db, settings) -> Provider:
    settings.ALLOW_LOCAL_PROVIDER = True
    return Provider.objects.create(name="this-worker", kind="local")


def values_for(template) -> dict[str, str]:
    names = {p["name"] for p in template.parameters}
    return parameters_validate(template.parameters, {k: v for k, v in REQUIRED.items() if k in names})


# --- Every template is a valid action ----------------------------------------------------------------


def test_the_runbook_procedures_are_all_there():
    names = [t.name for t in template_list()]
    assert names == [
        "Service restart",
        "Disk cleanup",
        "Log collection",
        "Health check",
        "Backup",
        "Restore from backup",
        "Memory cleanup",
    ]
    assert len(set(KEYS)) == len(KEYS)


@pytest.mark.parametrize("key", KEYS)
def test_every_template_clones_through_action_save(key, local):
    template = template_library.template_get(key)

    action = action_create_from_template(by=SYSTEM, template_key=key, target=local)

    action = Action.objects.get(pk=action.pk)
    assert (action.name, action.template_key, action.risk, action.category) == (
        template.name,
        key,
        template.risk,
        template.category,
    )
    assert action.parameters == template.parameters
    assert action.estimated_duration == template.estimated_duration
    steps = list(action.steps.order_by("order"))
    assert [s.name for s in steps] == [s["name"] for s in template.steps]
    for step, spec in zip(steps, template.steps, strict=True):
        assert (step.target_kind, step.provider) == (TargetKind.PROVIDER, local)
        assert (step.condition, step.retries, step.timeout_seconds, step.retry_delay_seconds) == (
            spec["condition"],
            spec["retries"],
            spec["timeout_seconds"],
            spec["retry_delay_seconds"],
        )
        assert step.timeout_seconds > 0


@pytest.mark.parametrize("key", KEYS)
def test_every_command_renders_to_valid_sh(key):
    template = template_library.template_get(key)
    values = values_for(template)
    declared = {p["name"] for p in template.parameters}
    for spec in template.steps:
        used = {name.split(".", 1)[1] for name in placeholders(spec["command"])}
        # Only parameters (runs without an incident must render too), and each with a value.
        assert all(name.startswith("params.") for name in placeholders(spec["command"]))
        assert used <= declared and used <= set(values), spec["name"]
        command = render_command(spec["command"], {"params": values})
        checked = subprocess.run(["sh", "-n", "-c", command], capture_output=True, text=True)
        assert checked.returncode == 0, (spec["name"], checked.stderr)


@pytest.mark.parametrize("key", KEYS)
def test_declarations_are_complete(key):
    template = template_library.template_get(key)
    assert template.summary and template.description and template.tags
    for declaration in template.parameters:
        assert declaration["description"] and declaration["pattern"]
        # An optional parameter without a value could not be substituted: each has a default.
        assert declaration["required"] or declaration.get("default")


@pytest.mark.parametrize("value", ["nginx; reboot", "$(reboot)", "-H evil", "a b", ""])
def test_service_names_are_constrained(value):
    template = template_library.template_get("service-restart")
    with pytest.raises(ValidationError):
        parameters_validate(template.parameters, {"service": value})


def test_restore_is_high_risk_and_backup_is_not():
    assert template_library.template_get("restore").risk == "high"
    assert template_library.template_get("backup").risk == "low"


# --- The service -------------------------------------------------------------------------------------


def test_a_group_target_points_every_step_at_the_group(local, provider_group_factory):
    group = provider_group_factory(providers=[local])

    action = action_create_from_template(
        by=SYSTEM, template_key="health-check", name="Fleet health", target=group
    )

    assert action.name == "Fleet health"
    assert {(s.target_kind, s.provider_group_id, s.provider_id) for s in action.steps.all()} == {
        (TargetKind.GROUP, group.pk, None)
    }


def test_steps_on_the_triggering_host_keep_it(local, monkeypatch):
    spec = {
        "key": "probe",
        "name": "Probe the alerting host",
        "summary": "s",
        "description": "d",
        "category": "diagnostics",
        "risk": "low",
        "tags": ["t"],
        "estimated_duration": template_library.timedelta(seconds=5),
        "parameters": [template_library.param("instance", "The alert's instance label.", required=True)],
        "steps": [
            template_library.step(
                "On the host", "uptime", timeout=5, target="trigger", target_parameter="instance"
            ),
            template_library.step("From here", "true", timeout=5),
        ],
    }
    monkeypatch.setattr(template_library, "TEMPLATES", [*TEMPLATES, spec])

    action = action_create_from_template(by=SYSTEM, template_key="probe", target=local)

    first, second = action.steps.order_by("order")
    assert (first.target_kind, first.target_parameter, first.provider) == (
        TargetKind.TRIGGER,
        "instance",
        None,
    )
    assert (second.target_kind, second.provider) == (TargetKind.PROVIDER, local)
    with pytest.raises(ValidationError) as refused:
        action_create_from_template(by=SYSTEM, template_key="probe", name="Again", target=None)
    assert refused.value.message_dict == {
        "target": ["Choose the provider or provider group the steps run on."]
    }


def test_a_template_with_a_quoted_placeholder_is_refused_from_the_gallery(local, monkeypatch):
    spec = {
        "key": "quoted",
        "name": "Quoted",
        "summary": "s",
        "description": "d",
        "category": "diagnostics",
        "risk": "low",
        "tags": ["t"],
        "estimated_duration": template_library.timedelta(seconds=5),
        "parameters": [template_library.param("unit", "A unit.", required=True)],
        "steps": [template_library.step("Status", 'systemctl status "{{ params.unit }}"', timeout=5)],
    }
    monkeypatch.setattr(template_library, "TEMPLATES", [*TEMPLATES, spec])

    with pytest.raises(ValidationError) as refused:
        action_create_from_template(by=SYSTEM, template_key="quoted", target=local)

    [message] = refused.value.message_dict["steps.1.command"]
    assert "inside double quotes" in message and "without quotes" in message
    assert not Action.objects.filter(name="Quoted").exists()


def test_refusals_write_nothing(local, responder):
    with pytest.raises(ValidationError) as unknown:
        action_create_from_template(by=SYSTEM, template_key="nope", target=local)
    assert "template_key" in unknown.value.message_dict

    action_create_from_template(by=SYSTEM, template_key="backup", target=local)
    with pytest.raises(ValidationError) as taken:
        action_create_from_template(by=SYSTEM, template_key="backup", target=local)
    assert "name" in taken.value.message_dict

    with pytest.raises(PermissionDeniedError):
        action_create_from_template(
            by=Actor(user=responder, source=Source.ADMIN), template_key="restore", target=local
        )
    assert Action.objects.count() == 1
