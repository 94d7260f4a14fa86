"""REST API: defining and editing actions with their ordered steps."""

import pytest

from actions.models import Action
from tests.actions.api_support import action_body, api_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def local(provider_factory):
    return provider_factory(name="worker")


# --- Create and edit ------------------------------------------------------------------------------


def test_create_an_action_with_ordered_steps(api, local, service_factory):
    service_factory(slug="web")

    response = api.post(
        api_url("actions"),
        action_body(local, services=["web"], tags=["nginx"], estimated_duration="PT2M", risk="high"),
    )

    assert response.status_code == 201, response.data
    action = Action.objects.get(pk=response.data["id"])
    assert [s.name for s in action.steps.order_by("order")] == ["Restart", "Check"]
    assert response.data["services"] == ["web"]
    assert response.data["estimated_duration"] == "P0DT00H02M00S"
    assert response.data["risk"] == "high"
    assert response.data["tags"] == ["nginx"]
    assert response.data["parameters"][0]["name"] == "service"
    steps = response.data["steps"]
    assert [s["name"] for s in steps] == ["Restart", "Check"]
    assert steps[0]["provider"] == "worker"
    assert steps[0]["provider_id"] == local.pk
    assert steps[0]["order"] < steps[1]["order"]
    assert (steps[1]["condition"], steps[1]["retries"], steps[1]["timeout_seconds"]) == (
        "previous_success",
        2,
        10,
    )
    assert steps[0]["condition"] == "always"
    assert response.data["run_count"] == 0
    assert response.data["success_rate"] is None
    assert response.data["average_duration_seconds"] is None
    assert response.data["last_run_at"] is None


def test_create_needs_steps(api, local):
    missing = api.post(api_url("actions"), {"name": "Nothing"})
    empty = api.post(api_url("actions"), {"name": "Nothing", "steps": []})

    assert missing.status_code == 400
    assert missing.data["steps"] == ["This field is required."]
    assert empty.status_code == 400
    assert empty.data["steps"]
    assert not Action.objects.exists()


def test_step_shape_errors_name_the_step(api, local):
    body = action_body(local)
    body["steps"][1] = {"name": "Check", "provider": "nowhere", "timeout_seconds": 0, "colour": "red"}

    response = api.post(api_url("actions"), body)

    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert set(response.data) == {
        "detail",
        "code",
        "steps.2.provider",
        "steps.2.command",
        "steps.2.timeout_seconds",
        "steps.2.colour",
    }
    assert "nowhere" in response.data["steps.2.provider"][0]
    assert not Action.objects.exists()


def test_step_rules_of_the_service_name_the_step(api, local, provider_group_factory):
    body = action_body(local)
    body["steps"] = [
        {"name": "Ok", "provider": local.pk, "command": "echo ok"},
        {"name": "Typo", "provider": local.pk, "command": "echo {{ params.servise }}"},
        {"name": "No target", "target_kind": "group", "command": "echo ok"},
        {"name": "Bad trigger", "target_kind": "trigger", "target_parameter": "host", "command": "uptime"},
    ]

    response = api.post(api_url("actions"), body)

    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert "servise" in response.data["steps.2.command"][0]
    assert response.data["steps.3.provider_group"] == ["Choose the provider group this step runs on."]
    assert response.data["steps.4.target_parameter"] == ["Name a declared parameter that holds the host."]
    assert not any(key.startswith("steps.1.") for key in response.data)
    assert not Action.objects.exists()


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ([{"name": "bad name"}], "letters, digits and underscores"),
        ([{"name": "a"}, {"name": "a"}], "declared twice"),
        ([{"name": "a", "pattern": "("}], "not a valid regular expression"),
        ([{"name": "a", "pattern": "^[0-9]+$", "default": "x"}], "does not match"),
        ([{"name": "a", "secret": True}], "unknown keys"),
        (["service"], "Parameter 1 must be an object."),
    ],
)
def test_bad_parameter_declarations_are_400(api, local, parameters, message):
    body = action_body(local, parameters=parameters)
    body["steps"] = [{"name": "Ok", "provider": local.pk, "command": "echo ok"}]

    response = api.post(api_url("actions"), body)

    assert response.status_code == 400
    assert message in " ".join(response.data["parameters"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"category": "magic"}, "category"),
        ({"risk": "extreme"}, "risk"),
        ({"services": ["nope"]}, "services"),
        ({"estimated_duration": "soon"}, "estimated_duration"),
        ({"parameters": "service"}, "parameters"),
        ({"template_key": "restart"}, "template_key"),
        ({"run_count": 3}, "run_count"),
    ],
)
def test_create_reports_bad_fields(api, local, body, field):
    response = api.post(api_url("actions"), action_body(local, **body))

    assert response.status_code == 400
    assert field in response.data
    assert not Action.objects.exists()


def test_create_with_a_taken_name_is_400(api, local, action_factory):
    action_factory(name="Restart nginx")

    response = api.post(api_url("actions"), action_body(local))

    assert response.status_code == 400
    assert "name" in response.data


def test_patch_changes_only_the_fields_sent(api, local, runnable_action):
    action = runnable_action(name="Flush cache", description="Flushes")
    step_ids = list(action.steps.values_list("pk", flat=True))

    response = api.patch(api_url("actions", action), {"risk": "high", "enabled": False})

    assert response.status_code == 200, response.data
    assert (response.data["risk"], response.data["enabled"]) == ("high", False)
    assert response.data["description"] == "Flushes"
    assert [s["id"] for s in response.data["steps"]] == step_ids


def test_patch_replaces_the_steps_in_the_order_given(api, local, runnable_action):
    action = runnable_action()

    response = api.patch(
        api_url("actions", action),
        {
            "steps": [
                {"name": "Second", "provider": local.pk, "command": "echo 2"},
                {"name": "First", "provider": local.pk, "command": "echo 1"},
            ]
        },
    )

    assert response.status_code == 200, response.data
    assert [s["name"] for s in response.data["steps"]] == ["Second", "First"]
    assert list(action.steps.order_by("order").values_list("name", flat=True)) == ["Second", "First"]


def test_patch_with_a_bad_step_changes_nothing(api, local, runnable_action):
    action = runnable_action(name="Keep me")

    response = api.patch(
        api_url("actions", action),
        {"name": "Renamed", "steps": [{"name": "Broken", "provider": local.pk, "command": "   "}]},
    )

    assert response.status_code == 400
    assert response.data["steps.1.command"] == ["A step needs a command."]
    action.refresh_from_db()
    assert action.name == "Keep me"
    assert list(action.steps.values_list("name", flat=True)) == ["Check"]


def test_patch_parameters_must_still_cover_the_commands(api, local):
    created = api.post(api_url("actions"), action_body(local))
    assert created.status_code == 201, created.data

    response = api.patch(
        api_url("actions", created.data["id"]),
        {
            "parameters": [],
            "steps": [{"name": "Restart", "provider": local.pk, "command": "echo {{ params.service }}"}],
        },
    )

    assert response.status_code == 400
    assert "service" in response.data["steps.1.command"][0]


@pytest.mark.parametrize("method", ["put", "delete"])
def test_put_and_delete_are_not_offered(api, runnable_action, method):
    action = runnable_action()

    response = getattr(api, method)(api_url("actions", action), {"name": "x"})

    assert response.status_code == 405
    assert Action.objects.filter(pk=action.pk).exists()
