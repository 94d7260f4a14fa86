"""The alerts admin: sources (token shown once, rotation, write-only HMAC secret), alerts (filters,
constant queries, create incident), rules with matchers and responses saved through
alert_rule_save, silences, the rule tester (reads only), and who may write."""

import json
import re
from datetime import timedelta
from functools import partial
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.admin.base import matchers_parse, matchers_text
from alerts.models import (
    Alert,
    AlertRule,
    AlertSource,
    Silence,
    TriggeredRun,
)
from alerts.services import alert_rule_save, alert_source_create, silence_save
from common.actor import Actor
from incidents.models import Incident
from tests.actions.factories import ActionRunFactory
from tests.admin_support import admin_url, flashed, form_data
from tests.alerts.conftest import load

url = partial(admin_url, "alerts")

pytestmark = pytest.mark.django_db

SINGLE = load("alertmanager_firing_single.json")
HMAC_SECRET = "hmac-SECRET-never-shown-7"


# --- Helpers ---------------------------------------------------------------------------------------


def hook(client, key: str, **headers):
    return client.post(
        f"/hooks/{key}/", data=json.dumps(SINGLE), content_type="application/json", headers=headers
    )


def make_alert(source, n: int = 0, **kwargs) -> Alert:
    now = timezone.now()
    kwargs.setdefault("name", f"Alert {n}")
    kwargs.setdefault("labels", {"alertname": f"Alert {n}", "severity": "critical"})
    return Alert.objects.create(
        source=source,
        fingerprint=f"fp-{n}",
        starts_at=now,
        received_at=now,
        last_received_at=now,
        **kwargs,
    )


@pytest.fixture
def admin_group_user(user_factory):
    return user_factory(username="alerts-admin", groups=["Admin"])


# --- Matcher text ----------------------------------------------------------------------------------


def test_matcher_text_round_trip():
    text = 'severity="critical"\nenv!="staging"\ninstance=~"web-.*"\nteam\nnote="say \\"hi\\""'
    matchers = matchers_parse(text)
    assert matchers == [
        {"label": "severity", "op": "eq", "value": "critical"},
        {"label": "env", "op": "neq", "value": "staging"},
        {"label": "instance", "op": "regex", "value": "web-.*"},
        {"label": "team", "op": "exists", "value": ""},
        {"label": "note", "op": "eq", "value": 'say "hi"'},
    ]
    assert matchers_parse(matchers_text(matchers)) == matchers


# --- Sources ---------------------------------------------------------------------------------------


def test_source_token_is_shown_once_with_the_ready_setup(admin_client, client):
    page = admin_client.get(url("alertsource_add"))
    data = form_data(page, name="Prod Alertmanager", slug="prod-am", kind="alertmanager")

    response = admin_client.post(url("alertsource_add"), data)

    source = AlertSource.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("alertsource_change", source.pk)
    shown = admin_client.get(response["Location"])
    html = shown.content.decode()
    token = shown.context["webhook"]["token"]
    assert token and token.startswith(source.token_prefix)
    assert f"http://testserver/hooks/{token}/" in html
    assert "http://testserver/hooks/prod-am/" in html
    assert "send_resolved: true" in html and "max_alerts: 0" in html
    assert f"credentials: {token}" in html
    # The token works, and the page never shows it again.
    assert hook(client, token).status_code == 202
    again = admin_client.get(url("alertsource_change", source.pk)).content.decode()
    assert token not in again
    assert source.token_prefix in again
    assert "/hooks/&lt;token&gt;/" in again


def test_rotate_token_confirms_then_invalidates_the_old_one(admin_client, client, make_source):
    source, old = make_source(name="Grafana", kind="grafana")
    confirm = admin_client.get(url("alertsource_rotate", source.pk))
    assert confirm.status_code == 200
    source.refresh_from_db()
    assert hook(client, old).status_code != 401  # A GET changed nothing.

    response = admin_client.post(url("alertsource_rotate", source.pk))

    assert response.status_code == 302
    assert hook(client, old).status_code == 401
    shown = admin_client.get(response["Location"])
    new = shown.context["webhook"]["token"]
    assert new and new != old
    assert new in shown.content.decode()
    assert new not in admin_client.get(url("alertsource_change", source.pk)).content.decode()
    assert hook(client, f"{source.slug}", Authorization=f"Bearer {new}").status_code != 401


def test_rotate_needs_post_for_the_change(admin_client, source):
    before = AlertSource.objects.get(pk=source.pk).token_hash
    admin_client.get(url("alertsource_rotate", source.pk))
    assert AlertSource.objects.get(pk=source.pk).token_hash == before


def test_hmac_secret_is_write_only(admin_client):
    page = admin_client.get(url("alertsource_add"))
    data = form_data(page, name="Grafana", slug="grafana", kind="grafana", new_hmac_secret=HMAC_SECRET)
    response = admin_client.post(url("alertsource_add"), data)
    source = AlertSource.objects.get()
    assert source.hmac_secret == HMAC_SECRET

    change = admin_client.get(response["Location"])
    html = change.content.decode()
    assert HMAC_SECRET not in html
    assert "set" in html and "not set" not in html

    # A blank input keeps the secret; other fields change through the service.
    admin_client.post(url("alertsource_change", source.pk), form_data(change, rate_limit_per_minute="42"))
    source.refresh_from_db()
    assert (source.hmac_secret, source.rate_limit_per_minute) == (HMAC_SECRET, 42)
    assert HMAC_SECRET not in admin_client.get(url("alertsource_change", source.pk)).content.decode()

    change = admin_client.get(url("alertsource_change", source.pk))
    admin_client.post(url("alertsource_change", source.pk), form_data(change, clear_hmac_secret="on"))
    source.refresh_from_db()
    assert source.hmac_secret == ""
    assert "not set" in admin_client.get(url("alertsource_change", source.pk)).content.decode()


def test_source_changelist_and_delete(admin_client, source):
    listing = admin_client.get(url("alertsource_changelist"))
    assert listing.status_code == 200
    assert source.token_prefix in listing.content.decode()

    response = admin_client.post(url("alertsource_delete", source.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not AlertSource.objects.exists()


# --- Alerts ----------------------------------------------------------------------------------------


def test_alert_changelist_filters(admin_client, source, service_factory, responder):
    checkout = service_factory(name="Checkout", slug="checkout")
    silence = silence_save(
        by=Actor.system(),
        data={
            "matchers": [{"label": "team", "op": "exists", "value": ""}],
            "starts_at": timezone.now(),
            "ends_at": timezone.now() + timedelta(hours=1),
            "reason": "maintenance",
        },
    )
    firing = make_alert(source, 1, name="CheckoutDown", service=checkout)
    resolved = make_alert(source, 2, name="DiskFull", status="resolved", processed=True)
    quiet = make_alert(source, 3, name="Flapping", silenced_by=silence)

    def names(query: str) -> set[str]:
        response = admin_client.get(url("alert_changelist") + query)
        assert response.status_code == 200
        return {a.name for a in response.context["cl"].result_list}

    assert names("") == {firing.name, resolved.name, quiet.name}
    assert names("?status__exact=resolved") == {resolved.name}
    assert names(f"?service__id__exact={checkout.pk}") == {firing.name}
    assert names(f"?source__id__exact={source.pk}") == {firing.name, resolved.name, quiet.name}
    assert names("?silenced=yes") == {quiet.name}
    assert names("?silenced=no") == {firing.name, resolved.name}
    assert names("?processed__exact=1") == {resolved.name}
    assert names("?q=Checkout") == {firing.name}
    assert names("?q=fp-2") == {resolved.name}


def test_alert_changelist_pinned_query_count(
    admin_client, source, service_factory, incident_factory, django_assert_num_queries
):
    service = service_factory()
    make_alert(source, 0, service=service, incident=incident_factory())
    with django_assert_num_queries(8):
        admin_client.get(url("alert_changelist"))
    for n in range(1, 20):
        make_alert(source, n, service=service, incident=incident_factory())
    with django_assert_num_queries(8):
        response = admin_client.get(url("alert_changelist"))
    assert len(response.context["cl"].result_list) == 20


def test_alert_page_is_readable_and_read_only(admin_client, make_source, action):
    _, token = make_source()
    hook(admin_client, token)
    alert = Alert.objects.get()
    alert.matches = [{"rule": None, "name": "Checkout errors", "reasons": ["severity eq Critical: yes"]}]
    alert.notes = ["Matched Checkout errors."]
    alert.save()
    run = ActionRunFactory(action=action)
    TriggeredRun.objects.create(alert=alert, run=run, trigger="immediate")

    response = admin_client.get(url("alert_change", alert.pk))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<code>instance</code>" in html and "checkout-7d9f8b6c4-xk2lp:8080" in html
    assert "severity eq Critical: yes" in html
    assert "Matched Checkout errors." in html
    assert reverse("admin:actions_actionrun_change", args=[run.pk]) in html
    assert url("alertpayload_change", alert.payload_id) in html
    assert 'name="_save"' not in html
    assert admin_client.get(url("alertpayload_change", alert.payload_id)).status_code == 200
    assert admin_client.get(url("alert_add")).status_code == 403


def test_create_incident_action(admin_client, source, priorities):
    alert = make_alert(source, 1, name="CheckoutDown")
    data = {"action": "create_incident", "_selected_action": [alert.pk]}

    response = admin_client.post(url("alert_changelist"), data)

    alert.refresh_from_db()
    assert response.status_code == 302
    assert alert.incident is not None
    again = admin_client.post(url("alert_changelist"), data, follow=True)
    assert Incident.objects.count() == 1
    assert any("already belongs to" in m for m in flashed(again))


# --- Who may write ---------------------------------------------------------------------------------


def test_viewer_reads_but_cannot_write(client, viewer, source, action):
    rule = alert_rule_save(by=Actor.system(), data={"name": "R"})
    alert = make_alert(source, 1)
    client.force_login(viewer)
    for page in (
        url("alertsource_changelist"),
        url("alertsource_change", source.pk),
        url("alert_changelist"),
        url("alert_change", alert.pk),
        url("alertrule_changelist"),
        url("silence_changelist"),
        url("alertrule_test"),
    ):
        assert client.get(page).status_code == 200, page
    token_hash = source.token_hash

    assert client.post(url("alertsource_add"), {"name": "X", "kind": "generic"}).status_code == 403
    assert client.post(url("alertsource_rotate", source.pk)).status_code == 403
    assert client.post(url("alertsource_change", source.pk), {"name": "Y"}).status_code == 403
    assert client.post(url("alertrule_add"), {"name": "Z"}).status_code == 403
    assert client.post(url("alertrule_delete", rule.pk), {"post": "yes"}).status_code == 403
    assert client.post(url("silence_add"), {"reason": "x"}).status_code == 403
    client.post(url("alert_changelist"), {"action": "create_incident", "_selected_action": [alert.pk]})

    source.refresh_from_db()
    alert.refresh_from_db()
    assert source.token_hash == token_hash and source.name == "Prometheus"
    assert alert.incident is None
    assert list(AlertRule.objects.values_list("name", flat=True)) == ["R"]
    assert not Silence.objects.exists()


def test_admin_group_manages_sources(client, admin_group_user):
    client.force_login(admin_group_user)
    page = client.get(url("alertsource_add"))
    response = client.post(url("alertsource_add"), form_data(page, name="Generic", slug="", kind="generic"))
    assert response.status_code == 302
    assert AlertSource.objects.get().slug == "generic"
    source, _ = alert_source_create(by=Actor.system(), name="Other", kind="generic")
    assert client.post(url("alertsource_rotate", source.pk)).status_code == 302


def visible_text(html: str) -> str:
    """The page's text as a browser shows it: tags dropped, entities decoded, spaces collapsed."""

    class Text(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

    parser = Text()
    parser.feed(html)
    return " ".join("".join(parser.parts).split())


def test_source_page_shows_its_placeholders_and_the_whole_body_limit(admin_client, source):
    page = admin_client.get(url("alertsource_change", source.pk))
    html = page.content.decode()
    text = visible_text(html)

    # Sent as raw HTML, <token> and <slug> were unknown tags the browser swallowed.
    assert "Below, <token> stands for it." in text
    assert "Used in /hooks/<slug>/ with a bearer token" in text
    assert f"{source.name}/hooks/" not in text
    # The default limit, 1048576, fits its box (admin's integer box is 5em: 6 digits showed).
    [box] = re.findall(r'<input[^>]*name="max_body_bytes"[^>]*>', html)
    assert 'value="1048576"' in box
    assert "vBigIntegerField" in box.split('class="')[1].split('"')[0].split()
    assert "In bytes (1048576 is 1 MiB)" in text


def test_source_label_limits_are_edited_in_the_admin(admin_client):
    page = admin_client.get(url("alertsource_add"))
    admin_client.post(url("alertsource_add"), form_data(page, name="Prom", slug="prom", kind="alertmanager"))
    source = AlertSource.objects.get()
    assert (source.max_labels, source.max_label_name_length) == (64, 256)

    change = admin_client.get(url("alertsource_change", source.pk))
    admin_client.post(
        url("alertsource_change", source.pk), form_data(change, max_labels="20", max_label_value_length="512")
    )
    source.refresh_from_db()
    assert (source.max_labels, source.max_label_value_length, source.max_annotation_value_length) == (
        20,
        512,
        16384,
    )
