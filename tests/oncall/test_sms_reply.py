"""Twilio's inbound SMS webhook: "ACK <code>" from a user's phone acknowledges the escalating page
with that reply code (source sms). Signatures are computed with twilio's RequestValidator and the
auth token of the SMS channel the reply was sent to; the answer is TwiML."""

import xml.etree.ElementTree as ET

import pytest
import requests
from twilio.request_validator import RequestValidator

from common.actor import Actor, Source
from incidents.choices import EventKind, IncidentStatus
from incidents.services.lifecycle import incident_acknowledge
from notifications.choices import ChannelKind
from notifications.models import Channel, ContactMethod
from oncall.models import Page
from oncall.services.acks import sms_reply_code
from tests.factories import UserFactory
from tests.hostile import HOSTILE

pytestmark = pytest.mark.django_db

SID, TOKEN = "AC" + "0" * 32, "twilio-auth-token-secret"
SENDER, PHONE = "+15550000000", "+15551234567"
URL = "/oncall/sms/twilio/"


@pytest.fixture
def channel(db):
    return Channel.objects.create(
        name="Pager SMS", kind=ChannelKind.SMS, config={"from_number": SENDER}, secret=f"{SID}:{TOKEN}"
    )


@pytest.fixture
def page(channel, open_incident, responder):
    ContactMethod.objects.create(user=responder, kind="sms", address=PHONE)
    return Page.objects.create(incident=open_incident(title="Checkout returns 502"), reply_code="4821")


def form(body: str, *, sender: str = PHONE, to: str = SENDER) -> dict[str, str]:
    return {"MessageSid": "SM" + "1" * 32, "AccountSid": SID, "From": sender, "To": to, "Body": body}


def signature(url: str, params: dict[str, str], token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def post(client, params, *, url="http://testserver" + URL, token=TOKEN, sign=None):
    sign = signature(url, params, token) if sign is None else sign
    return client.post(URL, params, headers={"X-Twilio-Signature": sign} if sign else {})


def said(response) -> str:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/xml"
    root = ET.fromstring(response.content)
    assert root.tag == "Response"
    [message] = root.findall("Message")
    return message.text


def acks(incident):
    return list(incident.timeline_events.filter(kind=EventKind.ACKNOWLEDGED))


def test_ack_reply_acknowledges_as_the_phones_owner(client, page, responder):
    text = said(post(client, form("ACK 4821")))

    assert text == f"Acknowledged {page.incident.reference}: Checkout returns 502"
    page.incident.refresh_from_db()
    assert page.incident.status == IncidentStatus.IN_PROGRESS
    [event] = acks(page.incident)
    assert (event.actor, event.source) == (responder, Source.SMS)


@pytest.mark.parametrize(
    "body", ["ACK 4821", "ack 4821", "  Ack4821 ", "4821", "ACK: 4821", "ack  4821.", "\n4821\n"]
)
def test_reply_forms_are_tolerated(body):
    assert sms_reply_code(body) == "4821"


@pytest.mark.parametrize("body", ["", "ACK", "hello", "ACK 48", "ACK 4821 4822", "4821 please", "NACK 4821"])
def test_other_texts_are_not_replies(body):
    assert sms_reply_code(body) == ""


def test_the_public_url_signature_is_accepted_too(client, settings, page):
    settings.SITE_URL = "https://mitigate.example.com"

    text = said(post(client, form("4821"), url="https://mitigate.example.com" + URL))

    assert text.startswith("Acknowledged")


@pytest.mark.parametrize(
    "how",
    [
        pytest.param({"token": "another-accounts-token"}, id="another token"),
        pytest.param({"url": "http://testserver/elsewhere/"}, id="another url"),
        pytest.param({"sign": ""}, id="unsigned"),
        pytest.param({"sign": "bm90IGEgc2lnbmF0dXJl"}, id="forged"),
    ],
)
def test_a_bad_signature_is_403_and_changes_nothing(client, page, how):
    response = post(client, form("ACK 4821"), **how)

    assert response.status_code == 403
    assert acks(page.incident) == []


def test_a_reply_to_a_number_no_channel_sends_from_is_403(client, page, channel):
    params = form("ACK 4821", to="+15559999999")
    assert post(client, params).status_code == 403

    channel.enabled = False
    channel.save(update_fields=["enabled"])
    assert post(client, form("ACK 4821")).status_code == 403
    assert acks(page.incident) == []


def test_replies_to_the_contact_method_sender_are_verified_with_its_credentials(client, settings, page):
    settings.NOTIFICATIONS_SMS_FROM = "+15552222222"
    settings.NOTIFICATIONS_TWILIO_CREDENTIALS = f"{SID}:people-sender-token"
    params = form("ACK 4821", to="+15552222222")

    assert post(client, params).status_code == 403  # the channel's token is not this sender's
    assert said(post(client, params, token="people-sender-token")).startswith("Acknowledged")


def test_a_signature_with_the_body_changed_is_403(client, page):
    sign = signature("http://testserver" + URL, form("ACK 9999"))

    assert post(client, form("ACK 4821"), sign=sign).status_code == 403
    assert acks(page.incident) == []


def test_an_unknown_code_is_told_and_changes_nothing(client, page):
    assert said(post(client, form("ACK 1111"))) == (
        "No open page has the code 1111; it may have been acknowledged or ended already."
    )
    assert acks(page.incident) == []


def test_a_page_no_longer_escalating_is_not_found_by_its_code(client, page):
    Page.objects.filter(pk=page.pk).update(status="exhausted")

    assert said(post(client, form("ACK 4821"))).startswith("No open page has the code 4821")
    assert acks(page.incident) == []


@pytest.mark.parametrize("enabled", [True, False])
def test_an_unknown_or_disabled_number_is_told_and_changes_nothing(client, page, responder, enabled):
    if enabled:
        params = form("ACK 4821", sender="+15557654321")
    else:
        ContactMethod.objects.filter(user=responder).update(enabled=False)
        params = form("ACK 4821")

    assert said(post(client, params)) == (
        "This phone number is not linked to a Mitigate user: add it as an SMS contact method."
    )
    assert acks(page.incident) == []


def test_a_phone_shared_by_two_users_is_not_guessed_between(client, page):
    other = UserFactory(username="twin", groups=["Responder"])
    ContactMethod.objects.create(user=other, kind="sms", address=PHONE)

    assert said(post(client, form("ACK 4821"))).startswith("This phone number belongs to more than one")
    assert acks(page.incident) == []


def test_a_deactivated_users_phone_is_not_linked(client, page, responder):
    responder.is_active = False
    responder.save(update_fields=["is_active"])

    assert said(post(client, form("ACK 4821"))).startswith("This phone number is not linked")
    assert acks(page.incident) == []


def test_not_a_reply_is_told_how(client, page):
    assert said(post(client, form("What is going on?"))) == (
        'Mitigate did not understand that. Reply "ACK <code>" with the code from the page.'
    )


def test_already_acknowledged_says_by_whom(client, page, admin_user):
    incident_acknowledge(incident=page.incident, by=Actor(user=admin_user, source=Source.API))

    text = said(post(client, form("ACK 4821")))

    assert text == f"{page.incident.reference} was already acknowledged by admin (API)."
    assert len(acks(page.incident)) == 1


def test_no_permission_is_told(client, page):
    viewer = UserFactory(username="watcher", groups=["Viewer"])
    ContactMethod.objects.create(user=viewer, kind="sms", address="+15557777777")

    text = said(post(client, form("ACK 4821", sender="+15557777777")))

    assert text == f"{page.incident.reference} was not acknowledged: You may not acknowledge incidents."
    assert acks(page.incident) == []


def test_only_post(client, page):
    assert client.get(URL).status_code == 405


@pytest.mark.parametrize("value", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_bodies_and_numbers(client, page, value):
    for params in (form(value), form(f"ACK {value}"), form("ACK 4821", sender=value)):
        said(post(client, params))
    # A hostile To is a number no channel sends from.
    assert post(client, form("ACK 4821", to=value)).status_code == 403

    assert acks(page.incident) == []


def test_through_a_real_http_server(live_server, channel, open_incident, responder):
    ContactMethod.objects.create(user=responder, kind="sms", address=PHONE)
    page = Page.objects.create(incident=open_incident(), reply_code="7777")
    url = live_server.url + URL
    params = form("ack 7777")

    refused = requests.post(url, data=params, headers={"X-Twilio-Signature": "x"}, timeout=10)
    response = requests.post(
        url, data=params, headers={"X-Twilio-Signature": signature(url, params)}, timeout=10
    )

    assert refused.status_code == 403 and response.status_code == 200
    assert ET.fromstring(response.content).find("Message").text.startswith("Acknowledged")
    [event] = acks(page.incident)
    assert (event.actor, event.source) == (responder, Source.SMS)
