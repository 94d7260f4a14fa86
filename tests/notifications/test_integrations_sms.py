import pytest

from notifications import integrations
from notifications.choices import ChannelKind
from notifications.integrations import sms
from notifications.transport import PermanentSendError, Target, TransientSendError
from tests.hostile import HOSTILE
from tests.notifications.conftest import TWILIO_SID, TWILIO_TOKEN

FROM = "+15005550006"


def phone(number="+15551234567", secret=f"{TWILIO_SID}:{TWILIO_TOKEN}", **config):
    return Target(kind=ChannelKind.SMS, config={"from_number": FROM, **config}, secret=secret, address=number)


def test_message_arrives_through_the_twilio_client(twilio_api, message):
    result = integrations.send(phone(), message)

    [request] = twilio_api.requests
    assert request.path == f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    assert request.form["To"] == "+15551234567"
    assert request.form["From"] == FROM
    assert request.form["Body"] == f"{message.subject} {message.url}"
    [sent] = twilio_api.messages
    assert result.provider_id == sent["sid"]
    assert result.payload == {"to": "+15551234567", "from": FROM, "body": request.form["Body"]}


def test_long_subject_is_cut_to_keep_the_link_within_160(twilio_api, make_message):
    message = make_message(subject="[P1] INC-2026-0042 opened: " + "Checkout errors everywhere " * 10)

    integrations.send(phone(), message)

    body = twilio_api.messages[0]["body"]
    assert len(body) <= 160
    assert body.endswith("... " + message.url)
    assert body.startswith("[P1] INC-2026-0042 opened: Checkout")


@pytest.mark.parametrize("subject", ["x" * 500, "short", "é" * 300, "line\nbreaks\tand  spaces " * 20])
@pytest.mark.parametrize("url", ["", "https://m.example.com/i/42", "https://example.com/" + "a" * 300])
def test_body_always_fits_one_segment(make_message, subject, url):
    body = sms.body(make_message(subject=subject, url=url))

    assert 0 < len(body) <= 160
    assert "\n" not in body


def test_formatted_number_is_normalised(twilio_api, message):
    integrations.send(phone("+1 (555) 123-4567"), message)

    assert twilio_api.messages[0]["to"] == "+15551234567"


def test_invalid_number_refused_by_twilio_is_permanent(twilio_api, message):
    with pytest.raises(PermanentSendError, match="21211"):
        integrations.send(phone("+15005550001"), message)


@pytest.mark.parametrize("number", ["", "5551234567", "+0123", "call me", "+1555123456789012"])
def test_number_not_in_e164_is_permanent_without_a_request(twilio_api, message, number):
    with pytest.raises(PermanentSendError):
        integrations.send(phone(number), message)

    assert twilio_api.requests == []


def test_wrong_credentials_are_permanent_and_not_shown(twilio_api, message):
    with pytest.raises(PermanentSendError, match="HTTP 401") as caught:
        integrations.send(phone(secret=f"{TWILIO_SID}:wrong-token-value"), message)

    assert "wrong-token-value" not in str(caught.value) + repr(caught.value.payload)


def test_malformed_secret_is_permanent(twilio_api, message):
    with pytest.raises(PermanentSendError, match="SID"):
        integrations.send(phone(secret="just-a-token"), message)


def test_rate_limit_is_transient_with_retry_after(twilio_api, message):
    twilio_api.rate_limit(retry_after=12, body={"code": 20429, "message": "Too Many Requests", "status": 429})

    with pytest.raises(TransientSendError) as caught:
        integrations.send(phone(), message)

    assert caught.value.retry_after == 12


def test_server_error_is_transient(twilio_api, message):
    twilio_api.fail(503, body={"code": 20500, "message": "Service unavailable", "status": 503})

    with pytest.raises(TransientSendError, match="503") as caught:
        integrations.send(phone(), message)

    assert TWILIO_TOKEN not in str(caught.value)


def test_unreachable_is_transient(settings, message):
    settings.NOTIFICATIONS_TWILIO_API_URL = "http://127.0.0.1:9"

    with pytest.raises(TransientSendError, match="unreachable") as caught:
        integrations.send(phone(), message)

    assert TWILIO_TOKEN not in str(caught.value)


def test_no_from_number_is_permanent(message):
    target = Target(
        kind=ChannelKind.SMS, config={}, secret=f"{TWILIO_SID}:{TWILIO_TOKEN}", address="+15551234567"
    )

    with pytest.raises(PermanentSendError, match="from number"):
        integrations.send(target, message)


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_subjects_fit_and_arrive(twilio_api, make_message, value):
    integrations.send(phone(), make_message(subject=value))

    body = twilio_api.messages[0]["body"]
    assert len(body) <= 160
    assert body.endswith("https://mitigate.example.com/incidents/42/")


def test_several_numbers_each_get_the_message(twilio_api, message):
    result = integrations.send(phone("+15551234567, +15557654321,+15551234567"), message)

    assert [sent["to"] for sent in twilio_api.messages] == ["+15551234567", "+15557654321"]
    assert result.provider_id == ",".join(sent["sid"] for sent in twilio_api.messages)
    assert result.payload["to"] == "+15551234567, +15557654321"


def test_a_bad_number_among_several_stops_before_any_send(twilio_api, message):
    with pytest.raises(PermanentSendError):
        integrations.send(phone("+15551234567, 12"), message)

    assert twilio_api.requests == []


def test_failure_after_a_first_number_names_what_was_sent(twilio_api, message):
    with pytest.raises(PermanentSendError, match=r"21211.*already sent to \+15551234567") as caught:
        integrations.send(phone("+15551234567, +15005550001"), message)

    assert caught.value.payload["sent"] == ["+15551234567"]


def test_a_retry_skips_the_numbers_an_earlier_attempt_reached(twilio_api, message):
    target = phone("+15551234567, +15557654321")
    retry = Target(**{**target.__dict__, "reached": ("+15551234567",)})

    integrations.send(retry, message)

    assert [sent["to"] for sent in twilio_api.messages] == ["+15557654321"]
