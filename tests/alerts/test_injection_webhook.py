"""The hostile corpus through an alert webhook: one Alertmanager payload per value, posted to the
real /hooks/<token>/ view with a real source token, processed by the real tasks (Celery's eager
mode), the value mapped from a label into the action's parameter by an automated response.

The parameter must declare an allow-list pattern; the one here refuses the shell's command syntax
(`$`, backticks, `;`, `|`, `&`, newlines) yet lets quotes, globs, tildes, dashes, unicode and
redirections through, so those reach the commands and must arrive as one literal argument."""

import json
import re

import pytest
from django.core.exceptions import ValidationError

from actions.parameters import MAX_VALUE_LENGTH
from alerts.models import Alert, AutomatedResponse, TriggeredRun
from alerts.services import alert_rule_save
from common.actor import Actor
from tests.actions.injection_support import (
    assert_only_the_safe_shapes_ran_literally,
    eager_tasks,
    shaped_action,
)
from tests.alerts.support import am_alert, am_payload
from tests.hostile import corpus, each_runner, no_canary

CANARY = "/tmp/mitigate-webhook-canary"
HOSTILE = corpus(CANARY)
PATTERN = r"^[^;`$\n\r\u0085\u2028|&]*$"
MAPPING = {"value": "{{ alert.labels.value }}"}


@pytest.fixture(autouse=True)
def _no_canary():
    with no_canary(CANARY):
        yield


@pytest.fixture(params=["local", pytest.param("ssh", marks=pytest.mark.integration)])
def provider(request, db):
    return each_runner(request)


def rule_for(action, mapping=MAPPING):
    return alert_rule_save(
        by=Actor.system(),
        data={"name": "Hostile labels", "matchers": [{"label": "alertname", "op": "eq", "value": "Hostile"}]},
        responses=[{"action": action, "parameters": mapping}],
    )


def post_alert(client, token: str, value: str, django_capture_on_commit_callbacks):
    payload = am_payload(am_alert("Hostile", fingerprint="fp-hostile", value=value))
    with eager_tasks(), django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/hooks/{token}/", data=json.dumps(payload), content_type="application/json")
    return response


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_label_mapped_into_a_parameter_runs_nothing(
    provider, make_source, client, value, django_capture_on_commit_callbacks
):
    action = shaped_action(provider, name="Shapes", pattern=PATTERN)
    rule_for(action)
    source, token = make_source(name="Hostile monitoring")
    # Past the ingest caps the 10 KB value would be a 400; let it through to reach the pattern check.
    source.max_label_value_length = 2 * max(len(v) for v in HOSTILE.values())
    source.save(update_fields=["max_label_value_length"])

    response = post_alert(client, token, value, django_capture_on_commit_callbacks)

    assert response.status_code == 202, response.content
    alert = Alert.objects.get()
    assert alert.processed
    [triggered] = TriggeredRun.objects.filter(alert=alert)
    allowed = len(value) <= MAX_VALUE_LENGTH and re.fullmatch(PATTERN, value) is not None
    assert (triggered.run is not None) == allowed, triggered.error
    if triggered.run is None:
        # Refused before anything ran: the pattern or the length limit, said on the alert.
        assert "parameters.value" in triggered.error
        assert any("not requested" in note for note in alert.notes)
        return
    assert alert.labels["value"] == value
    assert_only_the_safe_shapes_ran_literally(triggered.run, value)


def test_the_pattern_lets_enough_of_the_corpus_through_to_test_the_quoting():
    through = [
        name
        for name, value in HOSTILE.items()
        if len(value) <= MAX_VALUE_LENGTH and re.fullmatch(PATTERN, value)
    ]
    assert len(through) >= 20, through
    assert {"single quote redirect", "double quote redirect", "glob", "tilde", "leading dash"} <= set(through)


def test_a_rule_cannot_fill_a_parameter_without_a_pattern_from_the_alert(local_provider):
    action = shaped_action(local_provider, name="No pattern")

    with pytest.raises(ValidationError) as refused:
        rule_for(action)

    [message] = refused.value.message_dict["responses.1.parameters"]
    assert "filled from the alert, so it must declare a pattern" in message


def test_a_pattern_that_accepts_shell_syntax_is_not_an_allow_list(local_provider):
    action = shaped_action(local_provider, name="Lax pattern", pattern=".*")

    with pytest.raises(ValidationError) as refused:
        rule_for(action)

    assert "accepts '$(touch /tmp/x)'" in refused.value.message_dict["responses.1.parameters"][0]


def test_a_fixed_value_needs_no_pattern(local_provider):
    action = shaped_action(local_provider, name="Fixed")
    rule_for(action, mapping={"value": "nginx"})


def test_a_rule_saved_before_the_pattern_rule_requests_nothing(
    local_provider, make_source, client, django_capture_on_commit_callbacks
):
    action = shaped_action(local_provider, name="Old rule")
    rule = rule_for(action, mapping={"value": "fixed"})
    # As stored before patterns were required: the mapping written straight to the table.
    AutomatedResponse.objects.filter(rule=rule).update(parameters=MAPPING)
    _, token = make_source(name="Hostile monitoring")

    post_alert(client, token, f"$(touch {CANARY})", django_capture_on_commit_callbacks)

    [triggered] = TriggeredRun.objects.all()
    assert triggered.run is None
    assert "must declare a pattern" in triggered.error
