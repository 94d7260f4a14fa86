"""The actions admin: actions with their ordered steps, saved as a whole through action_save."""

import re

import pytest
from django.urls import reverse

from actions.admin import catalog as catalog_admin_module
from actions.choices import RunStatus, TargetKind
from actions.models import Action, ActionStep, Provider
from actions.services import action_save
from common.actor import Actor
from tests.admin_support import change_url, changelist, form_data

# --- Actions and their steps -----------------------------------------------------------------------


def step_prefix(response) -> str:
    return next(i.formset.prefix for i in response.context["inline_admin_formsets"])


@pytest.fixture
def save_spy(monkeypatch):
    calls = []

    def spy(**kwargs):
        calls.append(kwargs)
        return action_save(**kwargs)

    monkeypatch.setattr(catalog_admin_module, "action_save", spy)
    return calls


def test_add_action_with_steps_goes_through_action_save(client, admin_user, provider_factory, save_spy):
    provider = provider_factory(name="web-1")
    client.force_login(admin_user)
    page = client.get(reverse("admin:actions_action_add"))
    p = step_prefix(page)

    response = client.post(
        reverse("admin:actions_action_add"),
        form_data(
            page,
            name="Restart nginx",
            category="restart",
            tags="nginx, web",
            estimated_duration="00:00:30",
            parameters='[{"name": "service", "required": true, "pattern": "^[a-z]+$"}]',
            **{
                f"{p}-0-name": "Restart",
                f"{p}-0-command": "systemctl restart {{ params.service }}",
                f"{p}-0-target_kind": TargetKind.PROVIDER,
                f"{p}-0-provider": provider.pk,
                f"{p}-0-retries": 2,
            },
        ),
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    action = Action.objects.get(name="Restart nginx")
    assert len(save_spy) == 1
    assert action.tags == ["nginx", "web"]
    assert action.parameters == [{"name": "service", "required": True, "pattern": "^[a-z]+$"}]
    [step] = action.steps.all()
    assert (step.name, step.provider, step.retries, step.order) == ("Restart", provider, 2, 10)


def test_bad_placeholder_is_a_step_error_and_saves_nothing(client, admin_user, provider_factory, save_spy):
    provider = provider_factory(name="web-1")
    client.force_login(admin_user)
    page = client.get(reverse("admin:actions_action_add"))
    p = step_prefix(page)

    response = client.post(
        reverse("admin:actions_action_add"),
        form_data(
            page,
            name="Broken",
            **{
                f"{p}-0-name": "Echo",
                f"{p}-0-command": "echo {{ params.nope }}",
                f"{p}-0-target_kind": TargetKind.PROVIDER,
                f"{p}-0-provider": provider.pk,
            },
        ),
    )

    assert response.status_code == 200
    [inline] = response.context["inline_admin_formsets"]
    assert inline.formset.forms[0].errors["command"] == [
        "{{ params.nope }}: no parameter named 'nope' is declared."
    ]
    assert "no parameter named" in response.content.decode()
    assert len(save_spy) == 1
    assert not Action.objects.exists() and not ActionStep.objects.exists()


@pytest.fixture
def two_step_action(provider_factory):
    provider = provider_factory(name="web-1")
    return action_save(
        by=Actor.system(),
        data={"name": "Check web", "parameters": [{"name": "url", "default": "http://localhost/"}]},
        steps=[
            {"name": "Status", "command": "uptime", "provider": provider},
            {"name": "Probe", "command": "curl -fsS {{ params.url }}", "provider": provider},
        ],
    )


def test_change_reorders_edits_and_deletes_steps_in_one_save(client, admin_user, two_step_action, save_spy):
    client.force_login(admin_user)
    page = client.get(change_url(two_step_action))
    p = step_prefix(page)

    response = client.post(
        change_url(two_step_action),
        form_data(
            page,
            description="Now with a new first step",
            **{
                f"{p}-0-DELETE": "on",  # Status goes.
                f"{p}-1-order": "20",
                f"{p}-1-command": "curl -fsSI {{ params.url }}",
                f"{p}-TOTAL_FORMS": "3",
                f"{p}-2-order": "5",
                f"{p}-2-name": "Load",
                f"{p}-2-command": "cat /proc/loadavg",
                f"{p}-2-target_kind": TargetKind.PROVIDER,
                f"{p}-2-provider": two_step_action.steps.first().provider_id,
                f"{p}-2-timeout_seconds": "10",
                f"{p}-2-retries": "0",
                f"{p}-2-retry_delay_seconds": "5",
                f"{p}-2-condition": "always",
                f"{p}-2-failure_policy": "all",
            },
        ),
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    assert len(save_spy) == 1
    steps = list(Action.objects.get(pk=two_step_action.pk).steps.values_list("name", "command"))
    assert steps == [("Load", "cat /proc/loadavg"), ("Probe", "curl -fsSI {{ params.url }}")]


def test_change_refused_by_action_save_keeps_everything(client, admin_user, two_step_action, save_spy):
    """Dropping the parameter a step uses: the step's error shows, nothing is written."""
    before = list(ActionStep.objects.order_by("id").values())
    client.force_login(admin_user)
    page = client.get(change_url(two_step_action))
    p = step_prefix(page)

    response = client.post(change_url(two_step_action), form_data(page, name="Renamed", parameters="[]"))

    assert response.status_code == 200
    forms = response.context["inline_admin_formsets"][0].formset.forms
    assert forms[1].errors["command"] == ["{{ params.url }}: no parameter named 'url' is declared."]
    assert not forms[0].errors
    assert p
    assert Action.objects.get(pk=two_step_action.pk).name == "Check web"
    assert list(ActionStep.objects.order_by("id").values()) == before


def test_invalid_parameter_declarations_are_a_field_error(client, admin_user, two_step_action):
    client.force_login(admin_user)
    page = client.get(change_url(two_step_action))

    response = client.post(change_url(two_step_action), form_data(page, parameters='[{"name": "bad name"}]'))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["parameters"]
    assert errors == ["Parameter 1: name must be letters, digits and underscores."]

    response = client.post(change_url(two_step_action), form_data(page, parameters="[{not json"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["parameters"]


def test_an_action_needs_a_step(client, admin_user, two_step_action):
    client.force_login(admin_user)
    page = client.get(change_url(two_step_action))
    p = step_prefix(page)

    response = client.post(
        change_url(two_step_action), form_data(page, **{f"{p}-0-DELETE": "on", f"{p}-1-DELETE": "on"})
    )

    assert response.status_code == 200
    assert "An action needs at least one step." in response.content.decode()
    assert Action.objects.get(pk=two_step_action.pk).steps.count() == 2


def test_action_list_shows_usage_statistics(client, admin_user, runnable_action, action_run_factory):
    action = runnable_action(name="Restart nginx")
    for status in (RunStatus.SUCCEEDED, RunStatus.SUCCEEDED, RunStatus.SUCCEEDED, RunStatus.FAILED):
        action_run_factory(action=action, finished=True, status=status)
    action_run_factory(action=action)  # Pending: counted as a run, not in the rate.
    runnable_action(name="Never run")
    client.force_login(admin_user)

    response = client.get(changelist(Action))

    html = response.content.decode()
    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*Restart nginx(?:(?!</tr>).)*</tr>", html, re.S).group(0)
    assert ">5</a>" in row
    assert "75 %" in row
    assert "1 min" in row
    never = re.search(r"<tr[^>]*>(?:(?!</tr>).)*Never run(?:(?!</tr>).)*</tr>", html, re.S).group(0)
    assert 'class="field-success_rate">-<' in never
    assert 'class="field-runs">0<' in never


def test_action_changelist_query_count_is_constant(
    client, admin_user, runnable_action, action_run_factory, django_assert_num_queries
):
    def make(n):
        for _ in range(n):
            action = runnable_action()
            action_run_factory(action=action, finished=True)
            action_run_factory(action=action, finished=True, status=RunStatus.FAILED)

    client.force_login(admin_user)
    client.get(changelist(Action))  # Warm up the session and content-type caches.
    make(1)
    # Session, user, page count, the page with its statistics.
    with django_assert_num_queries(4):
        response = client.get(changelist(Action))
    assert len(response.context["cl"].result_list) == 1

    make(29)
    with django_assert_num_queries(4):
        response = client.get(changelist(Action))
    assert len(response.context["cl"].result_list) == 30


def test_provider_changelist_query_count_is_constant(
    client, admin_user, provider_factory, django_assert_num_queries
):
    client.force_login(admin_user)
    client.get(changelist(Provider))
    provider_factory()
    with django_assert_num_queries(4):
        client.get(changelist(Provider))
    for _ in range(29):
        provider_factory(ssh=True)
    with django_assert_num_queries(4):
        response = client.get(changelist(Provider))
    assert len(response.context["cl"].result_list) == 30
