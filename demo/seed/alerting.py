"""The demo's alert loop: the Prometheus source, its rule with Health check, and the banner's lines
that show how to use them."""

from typing import Any

from actions.models import Action
from alerts.choices import IncidentPolicy, ResponseTrigger, SourceKind
from alerts.management.demo_token_file import demo_token_path, demo_tokens_read
from alerts.models import AlertRule, AlertSource
from alerts.services import alert_rule_save, alert_source_create, alert_source_rotate_token, token_hash
from common.actor import Actor, Source
from incidents.management.web_url import DEFAULT_WEB_URL
from incidents.models import Priority, Service

# send_test_alert posts InstanceDown for the web server as Prometheus would; the rule opens a P2
# incident and runs Health check against the instance that alerted.
ALERT_SOURCE = {"name": "Prometheus", "slug": "prometheus", "kind": SourceKind.ALERTMANAGER}
ALERT_RULE = "Storefront instance down or slow"
# Health check looks at the web server the alert names. Its load limit is raised because the demo
# machine is a developer's, busy with builds and tests: a load spike there is not what the alert is about.
HEALTH_CHECK_PARAMETERS = {"endpoint": "http://{{ alert.labels.instance }}/admin/login/", "max_load": "8"}


def alerting_ensure(*, services: dict[str, Service]) -> dict[str, Any]:
    """The Prometheus source and its rule, each created once. Sources keep only a hash of their
    token, so the demo's token lives in VAR_DIR/demo-alert-token; when that copy no longer
    matches (deleted, another checkout), the token is rotated so the printed one always works."""
    system = Actor.system(source=Source.CLI, label="seed_demo")
    slug = ALERT_SOURCE["slug"]
    source = AlertSource.objects.filter(slug=slug).first()
    status = "kept"
    if source is None:
        name = ALERT_SOURCE["name"]
        if AlertSource.objects.filter(name=name).exists():
            name = f"{name} (demo)"  # Someone's own source took the name: leave it alone.
        source, token = alert_source_create(
            by=system, name=name, slug=slug, kind=ALERT_SOURCE["kind"], default_service=services["web"]
        )
        status = "new"
    else:
        token = demo_tokens_read().get(slug, "")
        if not token or token_hash(token) != source.token_hash:
            token = alert_source_rotate_token(source=source, by=system)
            status = "rotated"

    rule = AlertRule.objects.filter(name=ALERT_RULE).first()
    new_rule = rule is None
    if new_rule:
        health_check = Action.objects.filter(template_key="health-check", enabled=True).first()
        responses = []
        if health_check is not None:
            responses.append(
                {
                    "action": health_check,
                    "trigger": ResponseTrigger.IMMEDIATE,
                    "parameters": HEALTH_CHECK_PARAMETERS,
                }
            )
        rule = alert_rule_save(
            by=system,
            data={
                "name": ALERT_RULE,
                "description": "Demo: an instance of the storefront is down or slow. Opens one P2 "
                "incident per alert name and service, and runs Health check against the instance.",
                "matchers": [{"label": "alertname", "op": "regex", "value": "InstanceDown|HighLatency"}],
                "service": services["web"],
                "priority": Priority.objects.filter(code="P2").first(),
                "incident_policy": IncidentPolicy.ATTACH,
                "group_by": ["alertname", "service"],
            },
            responses=responses,
        )
    return {"source": source, "token": token, "token_status": status, "rule": rule, "new_rule": new_rule}


def alerting_lines(*, base: str, alerting: dict[str, Any]) -> list[str]:
    source, rule = alerting["source"], alerting["rule"]
    responses = ", ".join(str(r) for r in rule.responses.select_related("action")) or "no responses"
    token_note = {
        "new": "new",
        "kept": "unchanged",
        "rotated": "rotated: the previous one no longer works",
    }[alerting["token_status"]]
    # send_test_alert finds a running `make run` by itself; --url keeps the command right on
    # another port even when it does not (another terminal has no PORT).
    url_option = "" if base == DEFAULT_WEB_URL else f" --url {base}"
    return [
        "",
        f"  Alerts: {source.name} ({source.get_kind_display()}) posts to {base}/hooks/{source.slug}/",
        f"    Authorization: Bearer {alerting['token']}",
        f"    Token {token_note}; filed in {demo_token_path()} for send_test_alert.",
        f"    Rule: {rule.name} -> {responses}.",
        "  Send a test alert, then resolve it (alert -> incident -> Health check -> resolved):",
        f"    .venv/bin/python manage.py send_test_alert --source {source.slug}{url_option}",
        f"    .venv/bin/python manage.py send_test_alert --source {source.slug}{url_option} --resolve",
    ]
