import json
import time

import pytest
import requests

from notifications import integrations
from notifications.choices import ChannelKind
from notifications.integrations import webhook
from notifications.transport import PermanentSendError, Target, TransientSendError
from tests.hostile import HOSTILE
from tests.notifications.conftest import WEBHOOK_SECRET
from tests.notifications.receivers import signature_valid


def target(receiver, secret=WEBHOOK_SECRET, path="/hooks/mitigate"):
    return Target(kind=ChannelKind.WEBHOOK, config={"url": f"{receiver.url}{path}"}, secret=secret)


def test_signed_json_arrives_and_verifies(webhook_receiver, message):
    result = integrations.send(target(webhook_receiver), message)

    [request] = webhook_receiver.verified
    assert webhook_receiver.unverified == []
    assert request.headers["content-type"].startswith("application/json")
    assert abs(int(request.headers["x-mitigate-timestamp"]) - time.time()) < 5
    assert request.headers["x-mitigate-signature"].startswith("v1=")
    body = request.json
    assert body["event"] == "incident_opened"
    assert body["subject"] == message.subject
    assert body["text"] == message.text
    assert body["url"] == message.url
    assert body["facts"][0] == {"name": "Status", "value": "Investigating"}
    assert body["incident"] == {"id": 42, "reference": "INC-2026-0042", "severity": "P1", "bridge_url": ""}
    assert body["data"] == message.data
    assert result.payload == body


def test_event_without_incident(webhook_receiver, make_message):
    integrations.send(
        target(webhook_receiver), make_message(incident_id=None, incident_reference="", data={})
    )

    assert webhook_receiver.verified[0].json["incident"] is None


def test_unicode_and_hostile_text_survive_signing(webhook_receiver, make_message):
    text = "caf\u00e9 \u2603 \"quotes\" 'single' `tick` $(rm -rf /) \\ \x00 end"
    integrations.send(target(webhook_receiver), make_message(text=text))

    assert webhook_receiver.verified[0].json["text"] == text


def test_tampered_body_is_rejected(webhook_receiver, message):
    integrations.send(target(webhook_receiver), message)
    original = webhook_receiver.verified[0]
    tampered = original.body.replace(b"Checkout", b"Chequeout")

    response = requests.post(
        f"{webhook_receiver.url}/hooks/mitigate",
        data=tampered,
        headers={
            "Content-Type": "application/json",
            "X-Mitigate-Timestamp": original.headers["x-mitigate-timestamp"],
            "X-Mitigate-Signature": original.headers["x-mitigate-signature"],
        },
        timeout=5,
    )

    assert response.status_code == 401
    assert [r.body for r in webhook_receiver.unverified] == [tampered]


def test_wrong_secret_is_rejected_and_permanent(webhook_receiver, message):
    with pytest.raises(PermanentSendError, match="HTTP 401") as caught:
        integrations.send(target(webhook_receiver, secret="not-the-shared-secret"), message)

    assert len(webhook_receiver.unverified) == 1
    assert "not-the-shared-secret" not in str(caught.value) + json.dumps(caught.value.payload)


def test_old_timestamp_is_rejected_by_the_documented_check(message):
    body = json.dumps(webhook.render(message)).encode()
    stale = int(time.time()) - 301
    headers = {
        "x-mitigate-timestamp": str(stale),
        "x-mitigate-signature": webhook.sign(WEBHOOK_SECRET, stale, body),
    }
    fresh = int(time.time())
    current = {
        "x-mitigate-timestamp": str(fresh),
        "x-mitigate-signature": webhook.sign(WEBHOOK_SECRET, fresh, body),
    }

    assert not signature_valid(WEBHOOK_SECRET, headers, body)
    assert signature_valid(WEBHOOK_SECRET, current, body)


def test_signature_matches_an_independent_computation():
    import hashlib
    import hmac

    expected = hmac.new(b"k", b"1700000000.{}", hashlib.sha256).hexdigest()

    assert webhook.sign("k", 1700000000, b"{}") == f"v1={expected}"


def test_rate_limit_is_transient_with_retry_after(webhook_receiver, message):
    webhook_receiver.rate_limit(retry_after=90)

    with pytest.raises(TransientSendError) as caught:
        integrations.send(target(webhook_receiver), message)

    assert caught.value.retry_after == 90


def test_retry_after_as_http_date(webhook_receiver, message):
    from email.utils import formatdate

    webhook_receiver.fail(429, headers={"Retry-After": formatdate(time.time() + 120, usegmt=True)})

    with pytest.raises(TransientSendError) as caught:
        integrations.send(target(webhook_receiver), message)

    assert 100 < caught.value.retry_after <= 120


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, TransientSendError),
        (503, TransientSendError),
        (400, PermanentSendError),
        (404, PermanentSendError),
        (410, PermanentSendError),
    ],
)
def test_status_classification(webhook_receiver, message, status, error):
    webhook_receiver.fail(status)

    with pytest.raises(error):
        integrations.send(target(webhook_receiver), message)


def test_redirects_are_not_followed(webhook_receiver, message):
    webhook_receiver.fail(302, headers={"Location": "http://127.0.0.1:9/elsewhere"})

    with pytest.raises(PermanentSendError, match="HTTP 302"):
        integrations.send(target(webhook_receiver), message)


def test_unreachable_is_transient_and_hides_the_url(message):
    url = "http://127.0.0.1:9/hooks?token=URLTOKEN"

    with pytest.raises(TransientSendError) as caught:
        integrations.send(
            Target(kind=ChannelKind.WEBHOOK, config={"url": url}, secret=WEBHOOK_SECRET), message
        )

    assert "URLTOKEN" not in str(caught.value)


@pytest.mark.parametrize("url", ["", "ftp://example.com/x", "not a url", "http://"])
def test_bad_url_is_permanent(message, url):
    with pytest.raises(PermanentSendError):
        integrations.send(
            Target(kind=ChannelKind.WEBHOOK, config={"url": url}, secret=WEBHOOK_SECRET), message
        )


def test_no_secret_is_permanent(webhook_receiver, message):
    with pytest.raises(PermanentSendError, match="signing secret"):
        integrations.send(target(webhook_receiver, secret=""), message)

    assert webhook_receiver.requests == []


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_values_arrive_verified_and_unchanged(webhook_receiver, make_message, value):
    message = make_message(subject=value, text=value, facts=((value, value),), data={"value": value})

    integrations.send(target(webhook_receiver), message)

    [request] = webhook_receiver.verified
    body = request.json
    assert (body["subject"], body["text"], body["data"]["value"]) == (value, value, value)
    assert body["facts"] == [{"name": value, "value": value}]


def test_unknown_kind_is_refused(message):
    with pytest.raises(ValueError, match="carrier_pigeon"):
        integrations.send(Target(kind="carrier_pigeon", config={}), message)


@pytest.mark.parametrize("kind", ChannelKind.values)
def test_every_kind_renders_a_preview(message, kind):
    assert integrations.render(kind, message)
