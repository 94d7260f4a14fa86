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

from actions.models import ActionRun
from alerts.admin.base import matchers_parse, matchers_text
from alerts.models import (
    Alert,
    AlertPayload,
    AlertRule,
    AlertSource,
    AutomatedResponse,
    Silence,
    TriggeredRun,
)
from alerts.services import alert_rule_save, alert_source_create, silence_save
from common.actor import Actor
from incidents.models import Incident
from tests.actions.factories import ActionFactory, ActionRunFactory
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
def source(make_source) -> AlertSource:
    return make_source()[0]


@pytest.fixture
def action(db):
    return ActionFactory(
        name="Restart service",
        parameters=[{"name": "host", "pattern": r"^[A-Za-z0-9.:-]+$"}, {"name": "unit"}],
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


# --- Rules -----------------------------------------------------------------------------------------


def rule_post(admin_client, path: str, responses: list[dict] | None = None, **fields) -> dict:
    page = admin_client.get(path)
    data = form_data(page)
    data.update(
        {
            "name": "Checkout errors",
            "order": "10",
            "enabled": "on",
            "incident_policy": "create",
            "group_by": "alertname, service",
        }
    )
    data.update(fields)
    existing = int(data.get("responses-INITIAL_FORMS", 0))
    for i, response in enumerate(responses or []):
        index = existing + i
        data.update({f"responses-{index}-{k}": v for k, v in response.items()})
    data["responses-TOTAL_FORMS"] = str(existing + len(responses or []))
    return data


def test_rule_matchers_round_trip(admin_client):
    text = 'severity="critical"\nenv!="staging"\ninstance=~"web-.*"\nteam'
    data = rule_post(admin_client, url("alertrule_add"), matchers=text)

    response = admin_client.post(url("alertrule_add"), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    rule = AlertRule.objects.get()
    assert rule.matchers == matchers_parse(text)
    assert rule.group_by == ["alertname", "service"]
    change = admin_client.get(url("alertrule_change", rule.pk))
    assert change.context["adminform"].form["matchers"].value() == text
    listing = admin_client.get(url("alertrule_changelist")).content.decode()
    assert "severity=&quot;critical&quot;, env!=&quot;staging&quot;" in listing
    assert url("alertrule_test") in listing


def test_bad_matcher_is_a_form_error_and_nothing_is_saved(admin_client):
    data = rule_post(admin_client, url("alertrule_add"), matchers='severity="critical"\nenv==prod\nx=~"("')

    response = admin_client.post(url("alertrule_add"), data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["matchers"]
    assert any("Line 2" in e for e in errors)
    assert not AlertRule.objects.exists()


def test_responses_saved_in_order_through_the_service(admin_client, action):
    other = ActionFactory(name="Clear cache")
    data = rule_post(
        admin_client,
        url("alertrule_add"),
        matchers='severity="critical"',
        responses=[
            {
                "order": "20",
                "action": other.pk,
                "trigger": "immediate",
                "delay_seconds": "0",
                "parameters": "{}",
            },
            {
                "order": "10",
                "action": action.pk,
                "trigger": "after_delay",
                "delay_seconds": "60",
                "parameters": '{"host": "{{ alert.labels.instance }}"}',
                "enabled": "on",
            },
        ],
    )

    response = admin_client.post(url("alertrule_add"), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    rule = AlertRule.objects.get()
    saved = list(rule.responses.order_by("order"))
    assert [(r.action, r.order, r.trigger, r.delay_seconds) for r in saved] == [
        (action, 10, "after_delay", 60),
        (other, 20, "immediate", 0),
    ]
    assert saved[0].parameters == {"host": "{{ alert.labels.instance }}"}
    assert admin_client.get(url("alertrule_changelist")).context["cl"].result_list[0].response_count == 2


def test_bad_response_is_an_error_on_its_row_and_nothing_is_saved(admin_client, action):
    rule = alert_rule_save(
        by=Actor.system(),
        data={"name": "Checkout errors", "matchers": []},
        responses=[{"action": action, "parameters": {"host": "{{ alert.labels.instance }}"}}],
    )
    data = rule_post(
        admin_client,
        url("alertrule_change", rule.pk),
        name="Renamed",
        responses=[
            {
                "order": "50",
                "action": action.pk,
                "trigger": "immediate",
                "delay_seconds": "0",
                "parameters": '{"nope": "x"}',
            }
        ],
    )

    response = admin_client.post(url("alertrule_change", rule.pk), data)

    assert response.status_code == 200
    [formset] = [f.formset for f in response.context["inline_admin_formsets"]]
    assert "declares no parameter 'nope'" in formset.forms[1].errors["parameters"][0]
    rule.refresh_from_db()
    assert rule.name == "Checkout errors"
    assert [r.parameters for r in rule.responses.all()] == [{"host": "{{ alert.labels.instance }}"}]


def test_rule_delete_goes_through_the_service(admin_client, action):
    rule = alert_rule_save(by=Actor.system(), data={"name": "Old"}, responses=[{"action": action}])
    response = admin_client.post(url("alertrule_delete", rule.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not AlertRule.objects.exists() and not AutomatedResponse.objects.exists()


# --- Silences --------------------------------------------------------------------------------------


def test_silence_add_then_expire(client, responder):
    client.force_login(responder)
    start = timezone.localtime().replace(second=0, microsecond=0) - timedelta(minutes=5)
    end = start + timedelta(hours=2)
    data = {
        "matchers": 'service="checkout"\nenv!="staging"',
        "starts_at_0": start.strftime("%Y-%m-%d"),
        "starts_at_1": start.strftime("%H:%M:%S"),
        "ends_at_0": end.strftime("%Y-%m-%d"),
        "ends_at_1": end.strftime("%H:%M:%S"),
        "reason": "Database upgrade",
    }

    response = client.post(url("silence_add"), data)

    assert response.status_code == 302
    silence = Silence.objects.get()
    assert silence.created_by == responder
    assert silence.matchers[0] == {"label": "service", "op": "eq", "value": "checkout"}
    page = client.get(url("silence_change", silence.pk)).content.decode()
    assert url("silence_expire", silence.pk) in page
    listing = client.get(url("silence_changelist")).content.decode()
    assert "Active" in listing and "service=&quot;checkout&quot;" in listing

    assert client.get(url("silence_expire", silence.pk)).status_code == 405
    client.post(url("silence_expire", silence.pk))

    silence.refresh_from_db()
    assert silence.ends_at <= timezone.now()
    assert "Expired" in client.get(url("silence_changelist")).content.decode()


def test_silence_needs_a_matcher(admin_client):
    now = timezone.localtime()
    data = {
        "matchers": "",
        "starts_at_0": now.strftime("%Y-%m-%d"),
        "starts_at_1": now.strftime("%H:%M:%S"),
        "ends_at_0": now.strftime("%Y-%m-%d"),
        "ends_at_1": now.strftime("%H:%M:%S"),
        "reason": "x",
    }
    response = admin_client.post(url("silence_add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not Silence.objects.exists()


def test_expire_now_action(admin_client):
    silence = silence_save(
        by=Actor.system(),
        data={
            "matchers": [{"label": "team", "op": "exists", "value": ""}],
            "starts_at": timezone.now(),
            "ends_at": timezone.now() + timedelta(hours=1),
            "reason": "maintenance",
        },
    )
    admin_client.post(url("silence_changelist"), {"action": "expire_now", "_selected_action": [silence.pk]})
    silence.refresh_from_db()
    assert silence.ends_at <= timezone.now()


# --- Rule tester -----------------------------------------------------------------------------------


def _row_counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (
            Alert,
            AlertPayload,
            Incident,
            ActionRun,
            TriggeredRun,
            AlertRule,
            Silence,
            AutomatedResponse,
        )
    )


def test_rule_tester_shows_matches_and_writes_nothing(admin_client, source, action):
    alert_rule_save(
        by=Actor.system(),
        data={"name": "Checkout errors", "matchers": [{"label": "service", "op": "eq", "value": "checkout"}]},
        responses=[
            {"action": action, "parameters": {"host": "{{ alert.labels.instance }}"}},
            {"action": action, "parameters": {"host": "{{ alert.labels.missing }}"}},
        ],
    )
    alert_rule_save(by=Actor.system(), data={"name": "Never", "matchers": [{"label": "x", "op": "exists"}]})
    page = admin_client.get(url("alertrule_test"))
    assert page.status_code == 200
    before = _row_counts()

    response = admin_client.post(
        url("alertrule_test"), {"source": source.pk, "kind": "", "payload": json.dumps(SINGLE)}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Checkout errors" in html and "service eq checkout: yes" in html
    assert "Never" not in html
    assert "Opens a P1 incident" in html
    assert "checkout-7d9f8b6c4-xk2lp:8080" in html
    assert "would fail" in html
    assert _row_counts() == before


@pytest.mark.parametrize(
    ("payload", "message"),
    [("{not json", "Not valid JSON"), (json.dumps({"alerts": "nope"}), "parser refused it")],
)
def test_rule_tester_reports_bad_payloads(admin_client, payload, message):
    response = admin_client.post(url("alertrule_test"), {"kind": "alertmanager", "payload": payload})
    assert response.status_code == 200
    assert message in str(response.context["form"].errors["payload"])


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
