"""The hostile corpus through the run API (a Responder's POST /api/v1/actions/<id>/run/), executed
by the real task on the local runner and on the test sshd, across the five command shapes: the safe
shapes print the value byte for byte, the unsafe ones never run, and no value creates the canary.
The unsafe shapes are refused when an action is saved through the API or the admin."""

import pytest
from django.urls import reverse

from actions.models import Action, ActionRun
from actions.parameters import MAX_VALUE_LENGTH
from actions.services.snapshot import run_snapshot_build
from tests.actions.api_support import api_url, token_client
from tests.actions.injection_support import (
    SAFE_SHAPES,
    UNSAFE_SHAPES,
    assert_only_the_safe_shapes_ran_literally,
    eager_tasks,
    shaped_action,
)
from tests.hostile import corpus, each_runner, no_canary

CANARY = "/tmp/mitigate-injection-canary"
HOSTILE = corpus(CANARY)


@pytest.fixture(autouse=True)
def _no_canary():
    with no_canary(CANARY):
        yield


@pytest.fixture(params=["local", pytest.param("ssh", marks=pytest.mark.integration)])
def provider(request, db):
    return each_runner(request)


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_value_through_the_run_api_runs_nothing(
    provider, responder, value, django_capture_on_commit_callbacks
):
    action = shaped_action(provider, name="Shapes")
    client = token_client(responder)

    with eager_tasks(), django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            api_url("actions", action, "run"), {"parameters": {"value": value}}, format="json"
        )

    if len(value) > MAX_VALUE_LENGTH:
        assert response.status_code == 400
        assert "parameters.value" in response.data
        assert not ActionRun.objects.exists()
        return
    assert response.status_code == 201, response.data
    assert_only_the_safe_shapes_ran_literally(ActionRun.objects.get(pk=response.data["id"]), value)


@pytest.mark.parametrize(("command", "why"), UNSAFE_SHAPES.values(), ids=UNSAFE_SHAPES.keys())
def test_an_unsafe_shape_is_refused_when_saved_through_the_api(catalog_admin, local_provider, command, why):
    response = token_client(catalog_admin).post(
        api_url("actions"),
        {
            "name": "Quoted",
            "parameters": [{"name": "value"}],
            "steps": [{"name": "Print", "provider": local_provider.name, "command": command}],
        },
        format="json",
    )

    assert response.status_code == 400
    [message] = response.data["steps.1.command"]
    assert why in message
    if "quotes" in why:
        assert (
            "Values are quoted for you: write {{ params.value }} as a word of its own, without quotes"
            in message
        )
    assert not Action.objects.exists()


@pytest.mark.parametrize("command", SAFE_SHAPES.values(), ids=SAFE_SHAPES.keys())
def test_a_safe_shape_is_saved_through_the_api(catalog_admin, local_provider, command):
    response = token_client(catalog_admin).post(
        api_url("actions"),
        {
            "name": "Plain",
            "parameters": [{"name": "value"}],
            "steps": [{"name": "Print", "provider": local_provider.name, "command": command}],
        },
        format="json",
    )
    assert response.status_code == 201, response.data


@pytest.mark.parametrize(("command", "why"), UNSAFE_SHAPES.values(), ids=UNSAFE_SHAPES.keys())
def test_an_unsafe_shape_is_refused_in_the_admin_form(client, admin_user, local_provider, command, why):
    from tests.actions.test_admin_actions import step_prefix
    from tests.admin_support import form_data

    client.force_login(admin_user)
    page = client.get(reverse("admin:actions_action_add"))
    p = step_prefix(page)

    response = client.post(
        reverse("admin:actions_action_add"),
        form_data(
            page,
            name="Quoted",
            parameters='[{"name": "value"}]',
            **{
                f"{p}-0-name": "Print",
                f"{p}-0-command": command,
                f"{p}-0-target_kind": "provider",
                f"{p}-0-provider": local_provider.pk,
            },
        ),
    )

    assert response.status_code == 200
    [inline] = response.context["inline_admin_formsets"]
    assert any(why in e for e in inline.formset.forms[0].errors["command"])
    assert not Action.objects.exists()


def test_an_unsafe_step_stored_before_the_rule_is_shown_refused_to_the_approver(local_provider):
    action = shaped_action(local_provider, name="Legacy")

    snapshot = run_snapshot_build(
        action=action, parameters={"value": "x"}, incident=None, approval_reasons=[]
    )

    planned = {s["name"]: s for s in snapshot["steps"]}
    for shape in UNSAFE_SHAPES:
        assert planned[shape]["error"].startswith("Refused: unsafe command.")
        assert planned[shape]["command"] == ""  # Not even rendered.
    for shape in SAFE_SHAPES:
        assert planned[shape]["error"] == ""
