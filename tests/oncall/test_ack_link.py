"""The acknowledge link of a page: GET shows, POST acknowledges through incident_acknowledge with
the page_link source; bad tokens are a 400 page, refusals a 403 page, and nothing changes."""

import base64
import logging
import re
from datetime import timedelta
from urllib.parse import quote

import pytest
import requests
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from common.actor import Actor, Source
from incidents.choices import EventKind, IncidentStatus
from incidents.services.lifecycle import incident_acknowledge, incident_resolve
from oncall.acklinks import SALT, ack_link_make, ack_token_make
from oncall.models import Page, PageStep
from tests.factories import UserFactory
from tests.hostile import HOSTILE

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(open_incident):
    return Page.objects.create(incident=open_incident(title="Checkout returns 502"), reply_code="4821")


def ack_url(page, user=None, *, one_click=False) -> str:
    token = ack_token_make(page_id=page.pk, user_id=user.pk if user else None, one_click=one_click)
    return reverse("oncall:ack", args=[token])


def acks(incident):
    return list(incident.timeline_events.filter(kind=EventKind.ACKNOWLEDGED))


def test_the_link_is_absolute_and_opens_the_view(settings, page, responder):
    settings.SITE_URL = "https://mitigate.example.com"
    link = ack_link_make(page_id=page.pk, user_id=responder.pk)

    assert link.startswith("https://mitigate.example.com/oncall/ack/")
    assert link.removeprefix(settings.SITE_URL) == ack_url(page, responder)


def test_get_shows_the_incident_and_changes_nothing(client, page, responder):
    client.force_login(responder)

    response = client.get(ack_url(page, responder))

    assert response.status_code == 200
    html = response.content.decode()
    incident = page.incident
    for text in (incident.reference, "Checkout returns 502", str(incident.priority), "New", "Escalating"):
        assert text in html
    assert "responder" in html  # who was paged
    assert re.search(r'<form method="post">\s*<input type="hidden" name="csrfmiddlewaretoken"', html)
    assert "<script" not in html and "http" not in html.split("<body>")[1]
    assert response["Cache-Control"].startswith("max-age=0")
    assert response["Referrer-Policy"] == "no-referrer"
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.NEW and acks(incident) == []


def test_the_page_shows_who_it_reached_in_a_constant_number_of_queries(
    client, page, responder, django_assert_num_queries
):
    now = timezone.now()
    for loop, position, notified in [
        (0, 0, ["responder via SMS"]),
        (0, 1, ["responder via SMS", "bob via email"]),
    ]:
        PageStep.objects.create(
            page=page, loop=loop, position=position, due_at=now, ran_at=now, notified=notified
        )
    client.force_login(responder)
    url = ack_url(page, responder)

    # session, user, page with incident, paged user, steps; csrf and permissions need none more
    with django_assert_num_queries(5):
        response = client.get(url)

    assert "responder via SMS, bob via email" in response.content.decode()


def test_post_acknowledges_as_the_signed_in_user_from_the_page_link(client, page, responder):
    client.force_login(responder)

    response = client.post(ack_url(page, responder))

    assert response.status_code == 200
    assert f"You acknowledged {page.incident.reference}" in response.content.decode()
    page.incident.refresh_from_db()
    assert page.incident.status == IncidentStatus.IN_PROGRESS
    [event] = acks(page.incident)
    assert (event.source, event.actor) == (Source.PAGE_LINK, responder)


def test_a_signed_in_user_other_than_the_paged_one_acknowledges_as_themselves(client, page, responder):
    other = UserFactory(username="alice", groups=["Responder"])
    client.force_login(other)

    assert client.post(ack_url(page, responder)).status_code == 200

    [event] = acks(page.incident)
    assert (event.actor, event.source) == (other, Source.PAGE_LINK)


def test_signed_out_get_and_post_go_to_the_admin_login_and_change_nothing(client, page, responder):
    url = ack_url(page, responder)

    for response in (client.get(url), client.post(url)):
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('admin:login')}?next={quote(url)}"
    assert acks(page.incident) == []


def test_login_then_acknowledge(client, page, responder):
    url = ack_url(page, responder)
    login = client.get(url)["Location"]

    response = client.post(login, {"username": "responder", "password": "correct-horse-battery", "next": url})
    assert response.status_code == 302 and response["Location"] == url
    assert client.post(url).status_code == 200

    assert [event.source for event in acks(page.incident)] == [Source.PAGE_LINK]


@pytest.mark.parametrize("signed_in", [True, False])
def test_tampered_token_is_a_400_page(client, page, responder, signed_in):
    if signed_in:
        client.force_login(responder)
    token = ack_token_make(page_id=page.pk, user_id=responder.pk)
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")

    for response in (client.get(f"/oncall/ack/{tampered}/"), client.post(f"/oncall/ack/{tampered}/")):
        assert response.status_code == 400
        assert "This acknowledge link is not valid." in response.content.decode()
        assert page.incident.reference not in response.content.decode()
    assert acks(page.incident) == []


def test_expired_token_is_a_400_page(client, settings, page, responder):
    client.force_login(responder)
    url = ack_url(page, responder)
    settings.ONCALL_ACK_LINK_MAX_AGE = timedelta(seconds=-1)

    response = client.post(url)

    assert response.status_code == 400
    assert "This acknowledge link has expired." in response.content.decode()
    assert acks(page.incident) == []


def test_a_token_signed_for_another_purpose_is_a_400_page(client, page, responder):
    client.force_login(responder)
    # Our token's shape, signed for another purpose (another salt): not ours.
    value = ack_token_make(page_id=page.pk, user_id=responder.pk).rpartition(".")[0]
    other = salted_hmac("mitigate.other", value, algorithm="sha256").digest()[:16]
    foreign = f"{value}.{base64.urlsafe_b64encode(other).rstrip(b'=').decode()}"
    # Django's own signed value, with our salt: not our shape.
    not_a_claim = signing.dumps(["p", page.pk], salt=SALT, compress=True)

    for token in (foreign, not_a_claim):
        response = client.post(f"/oncall/ack/{token}/")
        assert response.status_code == 400
        assert "not valid" in response.content.decode()
    assert acks(page.incident) == []


@pytest.mark.parametrize("value", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_tokens_are_refused_plainly(client, page, responder, value):
    client.force_login(responder)
    url = f"/oncall/ack/{quote(value[:2000], safe='')}/"

    for response in (client.get(url), client.post(url)):
        # An empty token or one with a slash matches no route (404); every other is a 400 page.
        assert response.status_code in (400, 404)
        if response.status_code == 400:
            assert "This acknowledge link is not valid." in response.content.decode()
    assert acks(page.incident) == []


def test_a_link_to_a_page_that_is_gone_is_a_400_page(client, page, responder):
    client.force_login(responder)
    url = ack_url(page, responder)
    Page.objects.filter(pk=page.pk).delete()

    response = client.get(url)

    assert response.status_code == 400
    assert "no longer exists" in response.content.decode()


def test_one_click_acknowledges_without_login_as_the_claims_user(client, settings, page, responder):
    settings.ONCALL_SMS_ONE_CLICK_ACK = True
    url = ack_url(page, responder, one_click=True)

    shown = client.get(url)
    assert shown.status_code == 200 and page.incident.reference in shown.content.decode()
    assert acks(page.incident) == []
    response = client.post(url)

    assert response.status_code == 200
    [event] = acks(page.incident)
    assert (event.actor, event.source) == (responder, Source.PAGE_LINK)
    # The escalation ended in the same request, and the page says so.
    stopped = Page.objects.get(pk=page.pk)
    assert (stopped.status, stopped.end_source, stopped.ended_by) == ("acknowledged", "page_link", responder)


def test_one_click_turned_off_after_sending_needs_a_login(client, settings, page, responder):
    settings.ONCALL_SMS_ONE_CLICK_ACK = True
    url = ack_url(page, responder, one_click=True)
    assert client.get(url).status_code == 200

    settings.ONCALL_SMS_ONE_CLICK_ACK = False
    response = client.post(url)

    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    assert acks(page.incident) == []


def test_a_link_without_one_click_needs_a_login_even_when_one_click_is_on(client, settings, page, responder):
    settings.ONCALL_SMS_ONE_CLICK_ACK = True

    assert client.post(ack_url(page, responder)).status_code == 302
    assert acks(page.incident) == []


def test_one_click_for_a_deactivated_user_is_refused(client, settings, page, responder):
    settings.ONCALL_SMS_ONE_CLICK_ACK = True
    url = ack_url(page, responder, one_click=True)
    responder.is_active = False
    responder.save(update_fields=["is_active"])

    response = client.post(url)

    assert response.status_code == 403
    assert "can no longer sign in" in response.content.decode()
    assert acks(page.incident) == []


def test_already_acknowledged_says_by_whom(client, page, responder, admin_user):
    incident_acknowledge(incident=page.incident, by=Actor(user=admin_user, source=Source.API))
    client.force_login(responder)
    url = ack_url(page, responder)

    shown = client.get(url)
    refused = client.post(url)

    assert shown.status_code == 200 and refused.status_code == 409
    for response in (shown, refused):
        html = response.content.decode()
        assert "Already acknowledged by admin (API)" in html
        assert "<form" not in html
    assert len(acks(page.incident)) == 1


def test_a_resolved_incident_says_so(client, page, responder, admin_user):
    by = Actor(user=admin_user, source=Source.API)
    incident = incident_acknowledge(incident=page.incident, by=by)
    incident_resolve(incident=incident, by=by, summary="Rolled back")
    client.force_login(responder)

    for response in (client.get(ack_url(page, responder)), client.post(ack_url(page, responder))):
        html = response.content.decode()
        assert "This incident is resolved" in html
        assert "<form" not in html
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED


def test_a_user_who_may_not_transition_incidents_gets_a_403_page(client, page, viewer):
    client.force_login(viewer)
    url = ack_url(page, viewer)

    assert client.get(url).status_code == 200
    response = client.post(url)

    assert response.status_code == 403
    assert "You may not acknowledge incidents." in response.content.decode()
    assert acks(page.incident) == []


def test_a_user_who_may_not_see_incidents_and_was_not_paged_gets_a_403_page(client, page, responder):
    nobody = UserFactory(username="nobody")
    client.force_login(nobody)

    for response in (client.get(ack_url(page, responder)), client.post(ack_url(page, responder))):
        assert response.status_code == 403
        assert page.incident.reference not in response.content.decode()
    assert acks(page.incident) == []


def test_the_token_never_reaches_the_request_log(client, page, responder, caplog):
    token = ack_token_make(page_id=page.pk, user_id=responder.pk)
    client.force_login(nobody := UserFactory(username="nobody"))
    assert nobody

    with caplog.at_level(logging.DEBUG):
        assert client.get(f"/oncall/ack/{token}/").status_code == 403
        assert client.get(f"/oncall/ack/{token}x/").status_code == 400
        assert (
            client.post(f"/oncall/ack/{token}/", {"x": token}, QUERY_STRING=f"t={token}").status_code == 403
        )

    assert token not in caplog.text and token[8:20] not in caplog.text
    assert caplog.text.count(f"/oncall/ack/{token[:8]}…/") == 3


def test_the_development_server_log_is_redacted_in_the_path_and_the_login_next(client, page, responder):
    token = ack_token_make(page_id=page.pk, user_id=responder.pk)
    login = client.get(f"/oncall/ack/{token}/")["Location"]  # /admin/login/?next=/oncall/ack/<token>/
    assert f"next=/oncall/ack/{token}/" in login
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    server_log = logging.getLogger("django.server")
    server_log.addHandler(handler)
    try:
        server_log.info('"%s" %s %s', f"GET /oncall/ack/{token}/ HTTP/1.1", "302", "0")
        server_log.info('"%s" %s %s', f"GET {login} HTTP/1.1", "200", "9")
        server_log.info(
            '"%s" %s %s',
            f"GET /admin/login/?next={quote(f'/oncall/ack/{token}/', safe='')} HTTP/1.1",
            "200",
            "9",
        )
    finally:
        server_log.removeHandler(handler)

    lines = [record.getMessage() for record in records]
    tail = token[8:].split(":")[0]
    assert all(tail not in line for line in lines), lines
    assert lines[0] == f'"GET /oncall/ack/{token[:8]}…/ HTTP/1.1" 302 0'
    assert lines[1] == f'"GET /admin/login/?next=/oncall/ack/{token[:8]}…/ HTTP/1.1" 200 9'
    assert lines[2] == f'"GET /admin/login/?next=%2Foncall%2Fack%2F{token[:8]}…%2F HTTP/1.1" 200 9'


def test_one_click_through_a_real_http_server(live_server, settings, open_incident, responder):
    settings.ONCALL_SMS_ONE_CLICK_ACK = True
    page = Page.objects.create(incident=open_incident(), reply_code="1234")
    url = live_server.url + ack_url(page, responder, one_click=True)
    session = requests.Session()

    shown = session.get(url, timeout=10)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', shown.text).group(1)
    refused = requests.post(url, timeout=10)  # no CSRF cookie or token: refused, nothing changes
    done = session.post(url, data={"csrfmiddlewaretoken": csrf}, timeout=10)

    assert shown.status_code == 200 and refused.status_code == 403 and done.status_code == 200
    assert "You acknowledged" in done.text
    [event] = acks(page.incident)
    assert (event.actor, event.source) == (responder, Source.PAGE_LINK)
