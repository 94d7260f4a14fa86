import pytest

from notifications import integrations
from notifications.choices import ChannelKind
from notifications.transport import PermanentSendError, Target, TransientSendError
from tests.hostile import HOSTILE

WORKFLOW_PATH = "/workflows/3f2a/triggers/manual/paths/invoke"
SIGNATURE = "sig=WORKFLOWSECRETSIG"


def workflow(receiver):
    url = f"{receiver.url}{WORKFLOW_PATH}?api-version=1&{SIGNATURE}"
    return Target(kind=ChannelKind.TEAMS, config={}, secret=url)


def test_adaptive_card_arrives_in_the_workflows_envelope(teams_workflow, message):
    result = integrations.send(workflow(teams_workflow), message)

    [request] = teams_workflow.requests
    assert request.path == WORKFLOW_PATH
    envelope = request.json
    assert envelope["type"] == "message"
    [attachment] = envelope["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    assert card["body"][0] == {
        "type": "TextBlock",
        "text": message.subject,
        "size": "Large",
        "weight": "Bolder",
        "wrap": True,
        "style": "heading",
        "color": "Attention",
    }
    [fact_set] = [block for block in card["body"] if block["type"] == "FactSet"]
    assert fact_set["facts"][0] == {"title": "Status", "value": "Investigating"}
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open in Mitigate", "url": message.url}]
    assert "MessageCard" not in request.body.decode()
    assert SIGNATURE not in repr(result.payload)


def test_bridge_and_bundled(teams_workflow, make_message):
    integrations.send(
        workflow(teams_workflow), make_message(bundled=3, bridge_url="https://meet.example.com/x")
    )

    card = teams_workflow.cards[0]
    assert "(+3 more)" in card["body"][1]["text"]
    assert card["actions"][1]["url"] == "https://meet.example.com/x"


def test_rate_limit_is_transient_with_retry_after(teams_workflow, message):
    teams_workflow.rate_limit(retry_after=42)

    with pytest.raises(TransientSendError) as caught:
        integrations.send(workflow(teams_workflow), message)

    assert caught.value.retry_after == 42


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient(teams_workflow, message, status):
    teams_workflow.fail(status)

    with pytest.raises(TransientSendError) as caught:
        integrations.send(workflow(teams_workflow), message)

    assert SIGNATURE not in str(caught.value)


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_client_errors_are_permanent(teams_workflow, message, status):
    teams_workflow.fail(status, body={"error": {"code": "WorkflowTriggerIsNotEnabled"}})

    with pytest.raises(PermanentSendError) as caught:
        integrations.send(workflow(teams_workflow), message)

    assert SIGNATURE not in str(caught.value) + repr(caught.value.payload)


def test_unreachable_is_transient_without_the_url(message):
    target = Target(
        kind=ChannelKind.TEAMS, config={}, secret=f"http://127.0.0.1:9{WORKFLOW_PATH}?{SIGNATURE}"
    )

    with pytest.raises(TransientSendError) as caught:
        integrations.send(target, message)

    assert "WORKFLOWSECRETSIG" not in str(caught.value)
    assert "127.0.0.1" not in str(caught.value)


def test_missing_url_is_permanent(message):
    with pytest.raises(PermanentSendError):
        integrations.send(Target(kind=ChannelKind.TEAMS, config={}), message)


def test_the_receiver_refuses_an_o365_message_card(teams_workflow):
    """The receiver checks the envelope, so a card in the retired connector format would fail."""
    import requests

    response = requests.post(teams_workflow.url, json={"@type": "MessageCard", "text": "hi"}, timeout=5)

    assert response.status_code == 400


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_values_arrive_unchanged(teams_workflow, make_message, value):
    integrations.send(
        workflow(teams_workflow), make_message(subject=value, text=value, facts=((value, value),))
    )

    card = teams_workflow.cards[0]
    assert card["body"][0]["text"] == value
    assert {"title": value, "value": value} in card["body"][-1]["facts"]
