import pytest

from notifications import integrations
from notifications.choices import ChannelKind
from notifications.transport import PermanentSendError, Target, TransientSendError


def url_target(url):
    return Target(kind=ChannelKind.APPRISE, config={}, secret=url)


def json_url(receiver, path="/apprise/SECRETPATH"):
    return f"json://{receiver.host}:{receiver.port}{path}"


def test_message_arrives_through_apprise_json(json_sink, message):
    result = integrations.send(url_target(json_url(json_sink)), message)

    [request] = json_sink.requests
    assert request.path == "/apprise/SECRETPATH"
    body = request.json
    assert body["title"] == message.subject
    assert "Checkout returns 500" in body["message"]
    assert "Status: Investigating" in body["message"]
    assert message.url in body["message"]
    assert body["type"] == "failure"  # P1
    assert "SECRETPATH" not in repr(result.payload)
    assert result.payload["title"] == message.subject


def test_failure_answer_is_transient(json_sink, message):
    json_sink.fail(500)

    with pytest.raises(TransientSendError) as caught:
        integrations.send(url_target(json_url(json_sink)), message)

    assert "SECRETPATH" not in str(caught.value) + repr(caught.value.payload)


def test_client_error_is_transient_too(json_sink, message):
    """apprise reports only a boolean, so even a 4xx cannot be told apart."""
    json_sink.fail(404)

    with pytest.raises(TransientSendError):
        integrations.send(url_target(json_url(json_sink)), message)


def test_unreachable_is_transient(message):
    with pytest.raises(TransientSendError):
        integrations.send(url_target("json://127.0.0.1:9/x"), message)


@pytest.mark.parametrize("url", ["", "not a url", "nosuchservice://token@host", "https://"])
def test_url_apprise_refuses_is_permanent(message, url):
    with pytest.raises(PermanentSendError):
        integrations.send(url_target(url), message)


def test_render_preview(message):
    preview = integrations.render(ChannelKind.APPRISE, message)

    assert preview["title"] == message.subject
    assert message.url in preview["body"]
