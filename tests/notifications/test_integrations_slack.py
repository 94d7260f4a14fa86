import pytest

from notifications import integrations
from notifications.choices import ChannelKind
from notifications.integrations import slack
from notifications.transport import PermanentSendError, Target, TransientSendError
from tests.hostile import HOSTILE
from tests.notifications.conftest import SLACK_TOKEN


def bot(channel="C0INCIDENTS", token=SLACK_TOKEN, thread=""):
    return Target(kind=ChannelKind.SLACK_BOT, config={"channel": channel}, secret=token, thread=thread)


def hook(url):
    return Target(kind=ChannelKind.SLACK_WEBHOOK, config={}, secret=url)


def test_bot_post_arrives_as_blocks_and_starts_the_thread(slack_api, message):
    result = integrations.send(bot(), message)

    [request] = slack_api.requests
    assert request.path == "/api/chat.postMessage"
    assert request.headers["authorization"] == f"Bearer {SLACK_TOKEN}"
    body = request.json
    assert body["channel"] == "C0INCIDENTS"
    assert "thread_ts" not in body
    assert body["text"] == f"{message.subject} {message.url}"
    kinds = [block["type"] for block in body["blocks"]]
    assert kinds == ["header", "section", "section", "context", "actions"]
    assert body["blocks"][0]["text"]["text"] == message.subject
    assert body["blocks"][2]["fields"][0]["text"] == "*Status*\nInvestigating"
    assert body["blocks"][4]["elements"][0]["url"] == message.url
    assert result.thread == result.provider_id != ""


def test_update_is_a_reply_in_the_incident_thread(slack_api, message):
    first = integrations.send(bot(), message)

    reply = integrations.send(bot(thread=first.thread), message)

    assert slack_api.requests[-1].json["thread_ts"] == first.thread
    assert reply.thread == ""
    assert reply.provider_id not in ("", first.provider_id)
    assert reply.payload["thread_ts"] == first.thread


def test_user_text_cannot_open_links_or_mentions(slack_api, make_message):
    message = make_message(
        text="<!channel> see <https://evil.example|here> & more", facts=(("Who", "<@U1>"),)
    )

    integrations.send(bot(), message)

    blocks = slack_api.requests[0].json["blocks"]
    assert blocks[1]["text"]["text"] == "&lt;!channel&gt; see &lt;https://evil.example|here&gt; &amp; more"
    assert blocks[2]["fields"][0]["text"] == "*Who*\n&lt;@U1&gt;"


def test_bundled_events_and_bridge_show(slack_api, make_message):
    integrations.send(bot(), make_message(bundled=7, bridge_url="https://meet.example.com/inc-42"))

    blocks = slack_api.requests[0].json["blocks"]
    assert "+7 more" in blocks[3]["elements"][0]["text"]
    assert [button["url"] for button in blocks[4]["elements"]][1] == "https://meet.example.com/inc-42"


def test_rate_limit_is_transient_with_retry_after(slack_api, message):
    slack_api.rate_limit(retry_after=17, body={"ok": False, "error": "ratelimited"})

    with pytest.raises(TransientSendError) as caught:
        integrations.send(bot(), message)

    assert caught.value.retry_after == 17
    assert len(slack_api.requests) == 1  # slack_sdk did not retry on its own


def test_server_error_is_transient(slack_api, message):
    slack_api.fail(500, body="upstream failed")

    with pytest.raises(TransientSendError):
        integrations.send(bot(), message)


def test_ok_false_internal_error_is_transient(slack_api, message):
    slack_api.api_error("internal_error")

    with pytest.raises(TransientSendError):
        integrations.send(bot(), message)


def test_channel_not_found_is_permanent(slack_api, message):
    slack_api.missing_channels.add("C0GONE")

    with pytest.raises(PermanentSendError, match="channel_not_found"):
        integrations.send(bot(channel="C0GONE"), message)


def test_invalid_token_is_permanent_and_never_shown(slack_api, message):
    token = "xoxb-revoked-9999-secret"

    with pytest.raises(PermanentSendError, match="invalid_auth") as caught:
        integrations.send(bot(token=token), message)

    assert token not in str(caught.value)
    assert token not in repr(caught.value.payload)


def test_unreachable_api_is_transient(settings, message):
    settings.NOTIFICATIONS_SLACK_API_URL = "http://127.0.0.1:9/api/"

    with pytest.raises(TransientSendError) as caught:
        integrations.send(bot(), message)

    assert SLACK_TOKEN not in str(caught.value)


def test_webhook_post_arrives(slack_api, message):
    url = slack_api.webhook_url()

    result = integrations.send(hook(url), message)

    [request] = slack_api.requests
    assert request.path == "/services/T000/B000/XXXXSECRETXXXX"
    assert request.json["blocks"][0]["type"] == "header"
    assert request.json["text"].startswith(message.subject)
    assert url not in repr(result.payload)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (404, "channel_not_found", PermanentSendError),
        (403, "invalid_token", PermanentSendError),
        (410, "channel_is_archived", PermanentSendError),
        (500, "internal_error", TransientSendError),
        (503, "", TransientSendError),
    ],
)
def test_webhook_failures(slack_api, message, status, body, error):
    url = slack_api.webhook_url()
    slack_api.fail(status, body=body)

    with pytest.raises(error) as caught:
        integrations.send(hook(url), message)

    assert url not in str(caught.value)
    assert "XXXXSECRETXXXX" not in str(caught.value) + repr(caught.value.payload)


def test_webhook_rate_limit(slack_api, message):
    slack_api.rate_limit(retry_after=5, body="rate_limited")

    with pytest.raises(TransientSendError) as caught:
        integrations.send(hook(slack_api.webhook_url()), message)

    assert caught.value.retry_after == 5


def test_webhook_unreachable_is_transient_and_masked(message):
    url = "http://127.0.0.1:9/services/T1/B1/SECRETPART"

    with pytest.raises(TransientSendError) as caught:
        integrations.send(hook(url), message)

    assert "SECRETPART" not in str(caught.value)


def test_webhook_bad_url_is_permanent(message):
    with pytest.raises(PermanentSendError):
        integrations.send(hook("ftp://hooks.slack.example/services/x"), message)


def test_incident_channel_lifecycle(slack_api, make_message):
    name = slack.incident_channel_name("INC-2026-0042")
    assert name == "inc-2026-0042"

    channel_id = slack.incident_channel_create(SLACK_TOKEN, name, invite=["U1", "U2"])
    posted = slack.incident_channel_post(
        SLACK_TOKEN, channel_id, make_message(bridge_url="https://meet.example.com/inc-42")
    )
    slack.incident_channel_archive(SLACK_TOKEN, channel_id)
    slack.incident_channel_archive(SLACK_TOKEN, channel_id)  # already archived: nothing to do

    paths = [request.path for request in slack_api.requests]
    assert paths == [
        "/api/conversations.create",
        "/api/conversations.invite",
        "/api/chat.postMessage",
        "/api/conversations.archive",
        "/api/conversations.archive",
    ]
    assert slack_api.requests[0].data["name"] == "inc-2026-0042"
    assert slack_api.channels[channel_id]["members"] == ["U1", "U2"]
    assert slack_api.channels[channel_id]["is_archived"]
    assert posted.thread == posted.provider_id
    assert "meet.example.com" in str(slack_api.requests[2].json["blocks"])


def test_incident_channel_name_taken_is_permanent(slack_api):
    slack.incident_channel_create(SLACK_TOKEN, "inc-2026-0001")

    with pytest.raises(PermanentSendError, match="name_taken"):
        slack.incident_channel_create(SLACK_TOKEN, "inc-2026-0001")


def test_render_previews_without_sending(message):
    preview = integrations.render(ChannelKind.SLACK_BOT, message)

    assert preview["blocks"][0]["text"]["text"] == message.subject


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_text_is_escaped_and_within_slack_limits(slack_api, make_message, value):
    message = make_message(subject=value, text=value, facts=(("Hostile", value),))

    integrations.send(bot(), message)

    blocks = slack_api.requests[0].json["blocks"]
    header = blocks[0]["text"]["text"]
    assert header.strip() and len(header) <= 150
    mrkdwn = [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]
    mrkdwn += [f["text"] for b in blocks if b["type"] == "section" for f in b.get("fields", [])]
    for text in mrkdwn:
        assert "<" not in text and ">" not in text
        assert len(text) <= 3000


@pytest.mark.parametrize("kind", ["bot", "webhook"])
def test_scripted_404_channel_not_found_is_permanent(slack_api, message, kind):
    slack_api.channel_not_found()
    target = bot() if kind == "bot" else hook(slack_api.webhook_url())

    with pytest.raises(PermanentSendError, match="channel_not_found"):
        integrations.send(target, message)
