"""Slack's Acknowledge / Resolve buttons: the interactivity endpoint verifies Slack's signature
(computed here with the signing secret, as Slack does), finds the Mitigate user through users.info on
the local Slack API receiver, acts with the slack source and answers through the response_url."""

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

import pytest
import requests

from common.actor import Actor, Source
from incidents.choices import EventKind, IncidentStatus
from incidents.services.lifecycle import incident_acknowledge
from notifications.choices import ChannelKind
from notifications.integrations import slack
from notifications.models import Channel, ContactMethod
from notifications.transport import Message, Target
from tests.factories import UserFactory
from tests.hostile import HOSTILE
from tests.notifications.receivers import JsonSink, SlackApi

pytestmark = pytest.mark.django_db

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-0000-test-bot-token"
URL = "/oncall/slack/interactivity/"


@pytest.fixture
def slack_api(settings):
    receiver = SlackApi(token=TOKEN).start()
    settings.NOTIFICATIONS_SLACK_API_URL = f"{receiver.url}/api/"
    settings.SLACK_SIGNING_SECRET = SECRET
    Channel.objects.create(
        name="Slack incidents", kind=ChannelKind.SLACK_BOT, config={"channel": "C0INCIDENTS"}, secret=TOKEN
    )
    receiver.add_user("U0RESPONDER", "Responder@Example.com")
    yield receiver
    receiver.stop()


@pytest.fixture
def response_url():
    sink = JsonSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def incident(open_incident):
    return open_incident(title="Checkout returns 502")


def payload(incident_id, *, action="incident_ack", user="U0RESPONDER", response_url=None, **extra):
    body = {
        "type": "block_actions",
        "user": {"id": user, "username": "resp", "team_id": "T0001"},
        "team": {"id": "T0001"},
        "channel": {"id": "C0INCIDENTS", "name": "incidents"},
        "actions": [{"type": "button", "action_id": action, "value": str(incident_id), "block_id": "b"}],
        **({"response_url": response_url} if response_url else {}),
        **extra,
    }
    return urlencode({"payload": json.dumps(body)})


def signed(body: str, *, secret=SECRET, timestamp=None) -> dict[str, str]:
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest}"}


def post(client, body: str, headers: dict[str, str] | None = None):
    headers = signed(body) if headers is None else headers
    return client.post(URL, data=body, content_type="application/x-www-form-urlencoded", headers=headers)


def replies(sink) -> list[dict]:
    return [request.json for request in sink.requests]


def events(incident, kind):
    return list(incident.timeline_events.filter(kind=kind))


def test_acknowledge_button(client, slack_api, response_url, incident, responder):
    response = post(client, payload(incident.pk, response_url=f"{response_url.url}/actions/1"))

    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.IN_PROGRESS
    [event] = events(incident, EventKind.ACKNOWLEDGED)
    assert (event.actor, event.source) == (responder, Source.SLACK)
    [info] = [r for r in slack_api.requests if r.path == "/api/users.info"]
    assert info.data["user"] == "U0RESPONDER" and info.headers["authorization"] == f"Bearer {TOKEN}"
    [reply] = replies(response_url)
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    assert reply["text"] == f"You acknowledged {incident.reference}: Checkout returns 502"


def test_resolve_button(client, slack_api, response_url, incident, responder, admin_user):
    incident = incident_acknowledge(incident=incident, by=Actor(user=admin_user, source=Source.API))

    response = post(client, payload(incident.pk, action="incident_resolve", response_url=response_url.url))

    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED
    assert incident.resolution_summary == "Resolved from Slack by responder"
    [event] = events(incident, EventKind.RESOLVED)
    assert (event.actor, event.source) == (responder, Source.SLACK)
    assert replies(response_url)[0]["text"].startswith(f"You resolved {incident.reference}")


def test_without_a_response_url_the_answer_is_the_http_response(client, slack_api, incident):
    response = post(client, payload(incident.pk))

    assert response.status_code == 200
    assert response.json()["response_type"] == "ephemeral"
    assert response.json()["text"].startswith("You acknowledged")


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda body: signed(body, secret="another-secret"), id="wrong secret"),
        pytest.param(lambda body: signed(body + "x"), id="body changed"),
        pytest.param(lambda body: signed(body, timestamp=int(time.time()) - 600), id="stale"),
        pytest.param(lambda body: signed(body, timestamp=int(time.time()) + 600), id="future"),
        pytest.param(lambda body: {}, id="unsigned"),
        pytest.param(lambda body: {**signed(body), "X-Slack-Signature": "v0=" + "0" * 64}, id="forged"),
    ],
)
def test_a_bad_signature_is_401_and_changes_nothing(client, slack_api, response_url, incident, headers):
    body = payload(incident.pk, response_url=response_url.url)

    response = post(client, body, headers(body))

    assert response.status_code == 401
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.NEW
    assert slack_api.requests == [] and response_url.requests == []


def test_no_signing_secret_configured_is_401(client, settings, slack_api, incident):
    body = payload(incident.pk)
    headers = signed(body)
    settings.SLACK_SIGNING_SECRET = ""

    assert post(client, body, headers).status_code == 401
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.NEW


def test_only_post(client, slack_api):
    assert client.get(URL).status_code == 405


def test_a_slack_user_unknown_to_mitigate_is_told_how_to_link(client, slack_api, response_url, incident):
    slack_api.add_user("U0STRANGER", "stranger@example.org")

    for user in ("U0STRANGER", "U0NOBODY"):
        assert post(client, payload(incident.pk, user=user, response_url=response_url.url)).status_code == 200

    assert [reply["text"] for reply in replies(response_url)] == [
        "Mitigate does not know your Slack account. Use the same email address in Slack and in Mitigate "
        "(your user's email, or an email contact method in the admin), then press again."
    ] * 2
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.NEW


def test_slack_unreachable_is_told_and_changes_nothing(client, settings, slack_api, incident):
    settings.NOTIFICATIONS_SLACK_API_URL = "http://127.0.0.1:9/api/"  # the discard port: refused

    response = post(client, payload(incident.pk))

    assert response.json()["text"] == "Mitigate could not reach Slack to look up your account. Press again."
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.NEW


def test_a_slack_profile_without_an_email_is_not_linked(client, slack_api, incident):
    slack_api.add_user("U0NOEMAIL", None)

    response = post(client, payload(incident.pk, user="U0NOEMAIL"))

    assert "does not know your Slack account" in response.json()["text"]


def test_an_email_contact_method_links_the_slack_user(client, slack_api, incident):
    alice = UserFactory(username="alice", email="alice@corp.example", groups=["Responder"])
    ContactMethod.objects.create(user=alice, kind="email", address="alice@slack-workspace.example")
    slack_api.add_user("U0ALICE", "alice@slack-workspace.example")

    assert post(client, payload(incident.pk, user="U0ALICE")).status_code == 200

    [event] = events(incident, EventKind.ACKNOWLEDGED)
    assert (event.actor, event.source) == (alice, Source.SLACK)


def test_two_accounts_with_the_email_are_not_guessed_between(client, slack_api, incident, responder):
    UserFactory(username="responder-twin", email="responder@example.com", groups=["Responder"])

    response = post(client, payload(incident.pk))

    assert "does not know your Slack account" in response.json()["text"]
    assert events(incident, EventKind.ACKNOWLEDGED) == []


def test_the_channel_the_click_came_from_gives_the_token(client, slack_api, incident, responder):
    # A second workspace's bot comes first by name; its token is refused, the right one is found.
    Channel.objects.create(
        name="A other workspace",
        kind=ChannelKind.SLACK_BOT,
        config={"channel": "C0OTHER"},
        secret="xoxb-other",
    )

    assert post(client, payload(incident.pk)).status_code == 200

    [info] = [r for r in slack_api.requests if r.path == "/api/users.info"]
    assert info.headers["authorization"] == f"Bearer {TOKEN}"


def test_already_acknowledged_is_told(client, slack_api, response_url, incident, admin_user):
    incident_acknowledge(incident=incident, by=Actor(user=admin_user, source=Source.API))

    post(client, payload(incident.pk, response_url=response_url.url))

    assert replies(response_url)[0]["text"] == f"Cannot acknowledge {incident.reference}: it is in progress."
    assert len(events(incident, EventKind.ACKNOWLEDGED)) == 1


def test_no_permission_is_told(client, slack_api, response_url, incident, viewer):
    slack_api.add_user("U0VIEWER", viewer.email)

    post(client, payload(incident.pk, user="U0VIEWER", response_url=response_url.url))

    assert replies(response_url)[0]["text"] == "You may not acknowledge incidents."
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.NEW


@pytest.mark.parametrize("value", ["9" * 30, "\u00b2", "-1", "1.0", " 1", "0"])
def test_values_that_are_not_incident_ids(client, slack_api, incident, value):
    response = post(client, payload(value))

    assert response.json()["text"] == "That incident no longer exists."
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.NEW


def test_other_interactions_and_link_buttons_are_ignored(client, slack_api, incident):
    shortcut = urlencode({"payload": json.dumps({"type": "shortcut", "callback_id": "x"})})
    open_button = payload(incident.pk, action="open")

    for body in (shortcut, open_button):
        response = post(client, body)
        assert response.status_code == 200 and response.content == b""
    assert slack_api.requests == []


@pytest.mark.parametrize("actions", [5, "incident_ack", {"action_id": "incident_ack"}, None, [None, 7]])
def test_actions_of_the_wrong_shape_are_ignored(client, slack_api, incident, actions):
    body = urlencode({"payload": json.dumps({"type": "block_actions", "actions": actions})})

    response = post(client, body)

    assert response.status_code == 200 and response.content == b""
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.NEW


@pytest.mark.parametrize("body", ["", "payload=", "payload=%7Bnot+json", "payload=%5B1%5D", "\udcff"])
def test_a_signed_body_without_a_payload_is_400(client, slack_api, body):
    body = body.encode("utf-8", "surrogateescape").decode("latin-1")

    assert post(client, body).status_code == 400


@pytest.mark.parametrize("value", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_payload_values(client, slack_api, response_url, incident, value):
    slack_api.add_user(value, "responder@example.com")
    bodies = [
        payload(value, response_url=response_url.url),
        payload(incident.pk, action=value, response_url=response_url.url),
        payload(incident.pk, action="incident_resolve", user=value, response_url=value),
        urlencode(
            {
                "payload": json.dumps(
                    {
                        "type": "block_actions",
                        "user": value,
                        "channel": value,
                        "actions": [value, {"action_id": "incident_ack", "value": [value]}],
                        "response_url": value,
                    }
                )
            }
        ),
    ]

    for body in bodies:
        response = post(client, body)
        assert response.status_code == 200, response.content[:300]
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.NEW
    assert events(incident, EventKind.ACKNOWLEDGED) == []


def test_through_a_real_http_server(live_server, settings, slack_api, response_url, open_incident, responder):
    incident = open_incident()
    body = payload(incident.pk, response_url=response_url.url)
    headers = {**signed(body), "Content-Type": "application/x-www-form-urlencoded"}

    refused = requests.post(
        live_server.url + URL, data=body, headers={**headers, "X-Slack-Signature": "v0=0"}
    )
    response = requests.post(live_server.url + URL, data=body, headers=headers, timeout=10)

    assert refused.status_code == 401 and response.status_code == 200
    [event] = events(incident, EventKind.ACKNOWLEDGED)
    assert (event.actor, event.source) == (responder, Source.SLACK)


# --- the buttons on bot messages ---------------------------------------------------------------------


def make_message(**changes) -> Message:
    fields = {
        "event_kind": "incident_opened",
        "event_label": "Incident opened",
        "subject": "[P1] INC-2026-0042 opened: Checkout errors",
        "text": "Checkout returns 500.",
        "url": "https://mitigate.example.com/incidents/42/",
        "incident_id": 42,
        "incident_reference": "INC-2026-0042",
        "data": {"incident": {"id": 42, "status": "New"}},
    }
    return Message(**(fields | changes))


def bot_message(slack_api, message):
    target = Target(kind=ChannelKind.SLACK_BOT, config={"channel": "C0INCIDENTS"}, secret=TOKEN)
    slack.send(target, message)
    return slack_api.requests[-1].json


def buttons(body) -> list[dict]:
    return [
        element for block in body["blocks"] if block["type"] == "actions" for element in block["elements"]
    ]


def test_bot_messages_about_open_incidents_have_the_buttons(slack_api):
    body = bot_message(slack_api, make_message(data={"incident": {"id": 42, "status": "New"}}))

    acknowledge, resolve, link = buttons(body)
    assert (acknowledge["action_id"], acknowledge["value"], acknowledge["style"]) == (
        "incident_ack",
        "42",
        "primary",
    )
    assert (resolve["action_id"], resolve["value"]) == ("incident_resolve", "42")
    assert resolve["confirm"]["confirm"]["text"] == "Resolve"
    assert link["action_id"] == "open" and "value" not in link


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"event_kind": "resolved"}, id="resolved event"),
        pytest.param({"event_kind": "closed"}, id="closed event"),
        pytest.param({"data": {"incident": {"id": 42, "status": "Resolved"}}}, id="resolved incident"),
        pytest.param({"incident_id": None}, id="no incident"),
    ],
)
def test_no_buttons_when_the_incident_is_over_or_absent(slack_api, changes):
    body = bot_message(slack_api, make_message(**changes))

    assert [b["action_id"] for b in buttons(body)] == ["open"]


def test_no_buttons_without_a_signing_secret_or_on_webhooks(settings, slack_api):
    settings.SLACK_SIGNING_SECRET = ""
    assert [b["action_id"] for b in buttons(bot_message(slack_api, make_message()))] == ["open"]

    settings.SLACK_SIGNING_SECRET = SECRET
    webhook = slack.render(make_message())
    assert [b["action_id"] for b in buttons(webhook)] == ["open"]
