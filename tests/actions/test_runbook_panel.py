"""The incident page's Runbooks panel: its services' runbooks and its alerts' rules' runbooks, steps
as safe Markdown, and "Run <action>" links that prefill the action's parameters from the incident
and its alerts. A hostile alert label travels only as a parameter value: refused by the action's
pattern, or shell-quoted into the command, never spliced into it."""

import shlex
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from actions.models import ActionRun
from actions.services.runbooks import runbook_create
from alerts.services import alert_rule_save, alert_source_create
from common.actor import Actor
from tests.actions.execution_support import make_action
from tests.admin_support import change_url
from tests.alerts.support import am_alert, fire

SYSTEM = Actor.system()
HOSTILE = "web-1;touch /tmp/pwned $(id)"
RUN = reverse("admin:actions_action_run")


@pytest.fixture
def setup(local, service_factory):
    web = service_factory(name="Web", slug="web")
    guarded = make_action(
        local,
        "echo {{ params.host }} {{ params.ticket }}",
        name="Restart pool",
        parameters=[{"name": "host", "pattern": "^[A-Za-z0-9.:-]+$"}, {"name": "ticket"}],
    )
    open_ended = make_action(local, "echo {{ params.target }}", name="Ping", parameters=[{"name": "target"}])
    service_book = runbook_create(
        by=SYSTEM,
        title="Web is down",
        service=web,
        summary="Read **all** steps first.",
        steps=[
            {"text": "Look at the *dashboard* <script>alert(1)</script> [x](javascript:alert(1))"},
            {
                "text": "Restart the pool",
                "action": guarded,
                "parameters": {"host": "{{ alert.labels.instance }}", "ticket": "{{ incident.reference }}"},
            },
        ],
    )
    rule_book = runbook_create(
        by=SYSTEM,
        title="Instance unreachable",
        steps=[
            {"text": "Ping it", "action": open_ended, "parameters": {"target": "{{ alert.labels.instance }}"}}
        ],
    )
    other_book = runbook_create(by=SYSTEM, title="Unrelated", steps=[{"text": "Nothing"}])
    source, _ = alert_source_create(by=SYSTEM, name="Prometheus", kind="alertmanager")
    alert_rule_save(
        by=SYSTEM,
        data={
            "name": "Down",
            "service": web,
            "runbook": rule_book,
            "matchers": [{"label": "alertname", "op": "eq", "value": "Down"}],
        },
    )
    (alert,) = fire(source, am_alert("Down", instance=HOSTILE))
    return {
        "incident": alert.incident,
        "guarded": guarded,
        "open_ended": open_ended,
        "books": (service_book, rule_book, other_book),
    }


def run_links(html: str) -> dict[str, str]:
    """The panel's run buttons: label -> href."""
    panel = html[html.index('id="incident-runbooks"') :]
    links = {}
    for chunk in panel.split('class="button runbook-run" href="')[1:]:
        href, _, rest = chunk.partition('">')
        links[rest.split("</a>")[0]] = unescape(href)
    return links


def test_the_page_shows_the_services_and_the_rules_runbooks_with_prefilled_run_links(
    client, responder, setup
):
    incident = setup["incident"]
    client.force_login(responder)

    html = client.get(change_url(incident)).content.decode()

    panel = html[html.index('id="incident-runbooks"') :]
    assert "Web is down" in panel and "Instance unreachable" in panel and "Unrelated" not in panel
    assert "<strong>all</strong>" in panel and "<em>dashboard</em>" in panel
    assert "<script>alert(1)" not in panel and "&lt;script&gt;alert(1)&lt;/script&gt;" in panel
    assert 'href="javascript:' not in panel
    links = run_links(html)
    assert set(links) == {"Run Restart pool", "Run Ping"}
    query = parse_qs(urlsplit(links["Run Restart pool"]).query)
    assert query == {
        "incident": [str(incident.pk)],
        "action": [str(setup["guarded"].pk)],
        "param_host": [HOSTILE],
        "param_ticket": [incident.reference],
    }


def test_the_run_form_is_prefilled_and_the_pattern_refuses_the_hostile_value(client, responder, setup):
    client.force_login(responder)
    link = run_links(client.get(change_url(setup["incident"])).content.decode())["Run Restart pool"]

    page = client.get(link)

    form = page.context["form"]
    assert form["param_host"].value() == HOSTILE
    assert form["param_ticket"].value() == setup["incident"].reference
    refused = client.post(link, {"param_host": HOSTILE, "param_ticket": setup["incident"].reference})
    assert refused.status_code == 200 and "param_host" in refused.context["form"].errors
    assert not ActionRun.objects.filter(action=setup["guarded"]).exists()


def test_a_value_without_a_pattern_is_quoted_into_the_command_never_spliced(client, responder, setup):
    client.force_login(responder)
    link = run_links(client.get(change_url(setup["incident"])).content.decode())["Run Ping"]
    assert client.get(link).context["form"]["param_target"].value() == HOSTILE

    response = client.post(link, {"param_target": HOSTILE})

    assert response.status_code == 302
    run = ActionRun.objects.get(action=setup["open_ended"])
    assert run.incident == setup["incident"] and run.parameters == {"target": HOSTILE}
    assert run.snapshot["steps"][0]["command"] == f"echo {shlex.quote(HOSTILE)}"


def test_without_the_run_permission_the_steps_have_no_run_links(client, viewer, setup):
    client.force_login(viewer)

    html = client.get(change_url(setup["incident"])).content.decode()

    assert "Web is down" in html and run_links(html) == {}
