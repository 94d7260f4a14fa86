"""Post a test alert through the real webhook, as the source's monitoring system would, and follow
what Mitigate does with it.

    manage.py send_test_alert --source prometheus            # fire
    manage.py send_test_alert --source prometheus --resolve  # resolve the same alert

The payload is in the source's own format (Alertmanager v4, Grafana v1 or generic JSON) and goes over
HTTP to `/hooks/<slug>/` with the token as a bearer, so authentication, parsing, rate limits and the
processing task all run for real. The fingerprint depends only on the labels, so the same options
with --resolve resolve the alert the first call fired.
"""

import json
import os
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from alerts.choices import AlertStatus, SourceKind
from alerts.management import alert_sender
from alerts.management.alert_sender import TOKEN_ENV, build_payload
from alerts.management.demo_token_file import demo_token_path, demo_tokens_read
from alerts.models import Alert, AlertSource
from alerts.parsers import fingerprint_of
from alerts.parsers.body import signature_of
from incidents.management.web_url import running_web_url

URL_ENV = "MITIGATE_URL"


def default_url() -> str:
    """MITIGATE_URL; else the web server of a running `make run` (on whatever PORT it was given,
    which this terminal may not know); else SITE_URL (from PORT when unset)."""
    return os.environ.get(URL_ENV) or running_web_url() or settings.SITE_URL


def parse_label(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise CommandError(f"--label {text!r}: expected name=value, e.g. --label team=storefront.")
    return name.strip(), value


class Command(BaseCommand):
    help = (
        "Post a test alert (or, with --resolve, its resolution) to an alert source's webhook over HTTP "
        "and report what Mitigate did with it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", required=True, help="The alert source's slug, e.g. prometheus.")
        parser.add_argument(
            "--resolve", action="store_true", help="Send the resolved notification for the same alert."
        )
        parser.add_argument(
            "--url",
            default=None,
            help=f"Mitigate's base URL (default: ${URL_ENV}, else the running `make run`, else SITE_URL).",
        )
        parser.add_argument(
            "--token",
            default=None,
            help=f"The source's token (default: ${TOKEN_ENV}, else the demo's, written by seed_demo). "
            "Write --token=VALUE when it starts with a dash.",
        )
        parser.add_argument(
            "--kind",
            choices=SourceKind.values,
            help="Payload format; default: the source's kind, read from the database.",
        )
        parser.add_argument("--alertname", default="InstanceDown")
        parser.add_argument("--severity", default="critical")
        parser.add_argument("--instance", help="The instance label (default: host:port of --url).")
        parser.add_argument(
            "--label",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="An extra label; repeatable. Overrides the defaults of the same name.",
        )
        parser.add_argument("--summary", help="The summary annotation.")
        parser.add_argument(
            "--wait",
            type=float,
            default=10.0,
            metavar="SECONDS",
            help="How long to watch the database for the incident, runs and resolution (default 10).",
        )
        parser.add_argument("--no-wait", action="store_true", help="Post and exit; watch nothing.")
        parser.add_argument("--timeout", type=float, default=10.0, help="HTTP timeout in seconds.")

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options["source"]
        base = (options["url"] or default_url()).rstrip("/")
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise CommandError(f"--url {base!r} is not an http(s) URL such as http://127.0.0.1:8000.")

        source = AlertSource.objects.select_related("default_service").filter(slug=slug).first()
        kind = options["kind"] or (source.kind if source else None)
        if kind is None:
            known = ", ".join(AlertSource.objects.values_list("slug", flat=True)) or "none yet"
            raise CommandError(
                f"No alert source with slug {slug!r} in this database (sources: {known}). Create one in "
                "the admin, or pass --kind when posting to another Mitigate."
            )
        token = self._token(slug, options["token"])

        labels = {
            "alertname": options["alertname"],
            "severity": options["severity"],
            "instance": options["instance"] or parts.netloc,
            "job": "send_test_alert",
        }
        if source is not None and source.default_service is not None:
            labels["service"] = source.default_service.slug
        labels.update(parse_label(text) for text in options["label"])
        labels = dict(sorted(labels.items()))
        summary = (
            options["summary"] or f"{labels['instance']} does not answer (test alert from send_test_alert)"
        )
        annotations = {"summary": summary}

        resolved = options["resolve"]
        fingerprint = fingerprint_of(labels)
        open_alert = (
            Alert.objects.filter(source=source, fingerprint=fingerprint, status=AlertStatus.FIRING).first()
            if source is not None
            else None
        )
        now = datetime.now(UTC)
        payload = build_payload(
            kind,
            labels=labels,
            annotations=annotations,
            resolved=resolved,
            starts_at=open_alert.starts_at if open_alert else now,
            ends_at=now if resolved else None,
            generator_url=f"{base}/admin/",
        )
        body = json.dumps(payload).encode("utf-8")
        hook = f"{base}/hooks/{slug}/"
        what = "resolution of" if resolved else "firing"
        self.stdout.write(
            f"Posting {what} {labels['alertname']} (fingerprint {fingerprint}) to {hook} as {kind}."
        )
        signature = None
        if source is not None and source.hmac_secret:
            signature = signature_of(secret=source.hmac_secret, body=body)
        status, text = alert_sender.webhook_post(
            hook, body, token=token, signature=signature, timeout=options["timeout"]
        )
        self.stdout.write(f"HTTP {status} {text}")
        if not 200 <= status < 300:
            raise CommandError(alert_sender.webhook_failure(status, text, slug))

        try:
            alert_ids = [int(pk) for pk in json.loads(text).get("alerts", [])]
        except (ValueError, AttributeError, TypeError):
            alert_ids = []
        if source is None or not alert_ids:
            return
        self._link("Alert", "admin:alerts_alert_change", base, alert_ids[0])
        if options["no_wait"] or options["wait"] <= 0:
            return
        alert = Alert.objects.filter(pk=alert_ids[0]).first()
        if alert is None:
            return  # The server writes to another database: nothing to watch from here.
        alert_sender.Watch(self.stdout.write, base, alert_ids[0], resolved).run(options["wait"])
        if not resolved:
            self.stdout.write("Resolve it: run the same command with --resolve.")

    def _token(self, slug: str, given: str | None) -> str:
        token = given or os.environ.get(TOKEN_ENV) or demo_tokens_read().get(slug)
        if token:
            return token.strip()
        raise CommandError(
            f"No token for the alert source {slug!r}. Sources keep only a hash of their token, so it "
            f"cannot be read back: pass --token or set {TOKEN_ENV}, or rotate the token in the admin "
            f"(the source's page, Rotate token) and pass the new one. seed_demo files the demo "
            f"source's token in {demo_token_path()}."
        )

    def _link(self, label: str, name: str, base: str, pk: int) -> None:
        url = alert_sender.admin_url(base, name, pk)
        if url:
            self.stdout.write(f"  {label}: {url}")
