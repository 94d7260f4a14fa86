"""action_delete: an unused action goes with its steps; one in use is refused, naming what uses it."""

import pytest

from actions.models import Action, ActionStep
from actions.services import action_delete
from alerts.models import AlertRule, AutomatedResponse
from common.actor import Actor, Source
from common.exceptions import ConflictError, PermissionDeniedError


@pytest.fixture
def boss(catalog_admin) -> Actor:
    return Actor(user=catalog_admin, source=Source.ADMIN)


def test_an_unused_action_is_deleted_with_its_steps(boss, runnable_action):
    action = runnable_action(name="Restart nginx")
    action_id = action.pk

    action_delete(by=boss, action=action)

    assert not Action.objects.filter(pk=action_id).exists()
    assert not ActionStep.objects.filter(action_id=action_id).exists()


def test_an_action_with_runs_or_responses_is_refused(boss, runnable_action, action_run_factory):
    action = runnable_action(name="Restart nginx")
    action_run_factory(action=action)
    action_run_factory(action=action)
    rule = AlertRule.objects.create(name="Checkout errors")
    AutomatedResponse.objects.create(rule=rule, action=action)

    with pytest.raises(ConflictError) as refused:
        action_delete(by=boss, action=action)

    assert refused.value.code == "in_use"
    assert refused.value.message == (
        "Restart nginx is still used by 2 action runs and 1 automated response: disable it instead."
    )
    assert refused.value.extra == {"used_by": ["2 action runs", "1 automated response"]}
    assert Action.objects.filter(pk=action.pk).exists()
    assert action.steps.count() == 1


def test_deleting_an_action_needs_the_permission(responder, runnable_action):
    action = runnable_action()

    with pytest.raises(PermissionDeniedError, match="You may not delete actions"):
        action_delete(by=Actor(user=responder, source=Source.ADMIN), action=action)

    assert Action.objects.filter(pk=action.pk).exists()
