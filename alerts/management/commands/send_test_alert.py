"""Post a test alert through the real webhook, as the source's monitoring system would, and follow
what Mitigate does with it.

    manage.py send_test_alert --source prometheus            # fire
    manage.py send_test_alert --source prometheus --resolve  # resolve the same alert

The payload is in the source's own format (Alertmanager v4, Grafana v1 or generic JSON) and goes over
HTTP to `/hooks/<slug>/` with the token as a bearer, so authentication, parsing, rate limits and the
processing task all run for real. The fingerprint depends only on the labels, so the same options
with --resolve resolve the alert the first call fired.
"""

import hashlib
import hmac
import json
import os
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import NoReverseMatch, reverse

from actions.models import ActionRun
from alerts.choices import AlertStatus, SourceKind
from alerts.management.demo_token_file import demo_token_path, demo_tokens_read
from alerts.models import Alert, AlertSource, TriggeredRun
from alerts.parsers import fingerprint_of
from alerts.services.closed_loop import closed_loop_verdict
from alerts.views import SIGNATURE_HEADER
from incidents.choices import EventKind
from incidents.management.web_url import running_web_url
from incidents.models import Incident, TimelineEvent

TOKEN_ENV = "MITIGATE_ALERT_TOKEN"
URL_ENV = "MITIGATE_URL"
ZERO_TIME = "0001-01-01T00:00:00Z"  # Alertmanager's endsAt while an alert fires.
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# Runs that may still finish while we watch; the others are decided or wait for a person.
MOVING = ("pending", "approved", "scheduled", "running")
POLL_SECONDS = 0.5


def default_url() -> str:
    """MITIGATE_URL; else the web server of a running `make run` (on whatever PORT it was given,
    which this terminal may not know); else SITE_URL (from PORT when unset)."""
    return os.environ.get(URL_ENV) or running_web_url() or settings.SITE_URL


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def build_payload(
    kind: str,
    *,
    labels: dict[str, str],
    annotations: dict[str, str],
    resolved: bool,
    starts_at: datetime,
    ends_at: datetime | None = None,
    generator_url: str = "",
) -> dict[str, Any]:
    """One alert as a notification of `kind`, with a fingerprint computed from the labels alone, so
    a firing and a resolved notification with the same labels name the same alert."""
    status = AlertStatus.RESOLVED.value if resolved else AlertStatus.FIRING.value
    fingerprint = fingerprint_of(labels)
    alertname = labels.get("alertname", "TestAlert")
    if kind == SourceKind.GENERIC:
        alert: dict[str, Any] = {
            "title": alertname,
            "severity": labels.get("severity", ""),
            "status": status,
            "labels": labels,
            "annotations": annotations,
            "fingerprint": fingerprint,
            "starts_at": rfc3339(starts_at),
            "generator_url": generator_url,
        }
        if resolved:
            alert["ends_at"] = rfc3339(ends_at or datetime.now(UTC))
        return alert

    alert = {
        "status": status,
        "labels": labels,
        "annotations": annotations,
        "startsAt": rfc3339(starts_at),
        "endsAt": rfc3339(ends_at or datetime.now(UTC)) if resolved else ZERO_TIME,
        "generatorURL": generator_url,
        "fingerprint": fingerprint,
    }
    group_labels = {"alertname": alertname}
    payload: dict[str, Any] = {
        "receiver": "mitigate",
        "status": status,
        "alerts": [alert],
        "groupLabels": group_labels,
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": "",
        "groupKey": f'{{}}:{{alertname="{alertname}"}}',
        "truncatedAlerts": 0,
    }
    if kind == SourceKind.ALERTMANAGER:
        return {"version": "4", **payload}
    if kind == SourceKind.GRAFANA:
        alert.update(values={}, valueString="", dashboardURL="", panelURL="", silenceURL="", imageURL="")
        shown = " ".join(value for key, value in sorted(labels.items()) if key != "alertname")
        return {
            "version": "1",
            **payload,
            "orgId": 1,
            "title": f"[{status.upper()}:1] {alertname} ({shown})",
            "state": "ok" if resolved else "alerting",
            "message": annotations.get("summary", ""),
        }
    raise CommandError(f"Unknown source kind {kind!r}; expected one of {', '.join(SourceKind.values)}.")


def admin_url(base: str, name: str, pk: int) -> str:
    """The admin page of a row, or "" when its model is not in the admin."""
    try:
        return f"{base}{reverse(name, args=[pk])}"
    except NoReverseMatch:
        return ""


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
            signature = _sign(source.hmac_secret, body)
        status, text = self._post(hook, body, token, signature, options["timeout"])
        self.stdout.write(f"HTTP {status} {text}")
        if not 200 <= status < 300:
            raise CommandError(_failure(status, text, slug))

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
        Watch(self, base, alert_ids[0], resolved).run(options["wait"])
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

    def _post(
        self, url: str, body: bytes, token: str, signature: str | None, timeout: float
    ) -> tuple[int, str]:
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
            "User-Agent": "mitigate-send-test-alert",
        }
        if signature:
            headers[SIGNATURE_HEADER] = signature
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        handlers = []
        if urlsplit(url).hostname in LOOPBACK:
            handlers.append(urllib.request.ProxyHandler({}))  # Never send a local post through a proxy.
        opener = urllib.request.build_opener(*handlers)
        try:
            with opener.open(request, timeout=timeout) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise CommandError(
                f"Could not reach {url}: {reason}. Is Mitigate running there (`make run`), or pass --url?"
            ) from None

    def _link(self, label: str, name: str, base: str, pk: int) -> None:
        url = admin_url(base, name, pk)
        if url:
            self.stdout.write(f"  {label}: {url}")


def _sign(secret: str, body: bytes) -> str:
    """Grafana's signature header value: HMAC-SHA256 of the raw body, as the webhook checks it."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _failure(status: int, text: str, slug: str) -> str:
    try:
        answer = json.loads(text)
        detail = f"{answer['code']}: {answer['detail']}"
    except (ValueError, KeyError, TypeError):
        detail = text.strip()[:300] or "no body"
    hint = {
        401: f"Check the token of {slug!r} (--token or ${TOKEN_ENV}); a rotated token replaces the old one.",
        403: "Enable the source in the admin.",
        404: "Nothing answers at that path: is --url Mitigate's base URL?",
        413: "The payload is over the source's size limit.",
        429: "The source's rate limit is reached; wait a minute.",
    }.get(status, "")
    return f"The webhook refused the alert: HTTP {status} {detail} {hint}".rstrip()


class Watch:
    """Follow one alert in the database for a few seconds and say what happened: the incident it
    opened or joined, the automated runs and how they ended, and the closed loop's decision."""

    def __init__(self, command: Command, base: str, alert_id: int, resolved: bool):
        self.command = command
        self.base = base
        self.alert_id = alert_id
        self.resolved = resolved
        self.said: set[str] = set()

    def say(self, line: str, admin: tuple[str, int] | None = None) -> None:
        if line in self.said:
            return
        self.said.add(line)
        url = admin_url(self.base, *admin) if admin else ""
        if url:
            line = f"{line}  {url}"
        self.command.stdout.write(line)

    def run(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            waiting_for = self.step()
            if waiting_for is None:
                return
            if time.monotonic() >= deadline:
                self.command.stdout.write(f"Stopped watching after {seconds:g} s: {waiting_for}.")
                return
            time.sleep(POLL_SECONDS)

    def step(self) -> str | None:
        """Report what is new; returns what is still awaited, or None when the story is told."""
        alert = Alert.objects.select_related("incident", "silenced_by").filter(pk=self.alert_id).first()
        if alert is None:
            return None
        if not alert.processed:
            return "the alert is not processed yet; is the Celery worker running (`make run` starts one)?"
        if alert.silenced_by is not None:
            self.say(f"Silenced by silence #{alert.silenced_by.pk}: nothing triggered.")
            return None
        incident = alert.incident
        if incident is None:
            self.say(alert.notes[-1].split(" ", 2)[-1] if alert.notes else "Stored; no incident.")
            return None
        verb = "Opened" if alert.opened_incident else "Joined"
        if self.resolved:
            verb = "Resolved the alert of"
        self.say(
            f"{verb} {incident.reference}: {incident.title}", ("admin:incidents_incident_change", incident.pk)
        )
        return self._resolution(incident) if self.resolved else self._runs(alert)

    def _runs(self, alert: Alert) -> str | None:
        pending = None
        for triggered in TriggeredRun.objects.filter(alert=alert).select_related(
            "run__action", "response__action"
        ):
            if triggered.run is None:
                action = triggered.response.action.name if triggered.response else "An automated response"
                self.say(f"{action} was not requested: {triggered.error}")
                continue
            run = triggered.run
            if run.status in MOVING:
                pending = f"{run.action.name} run #{run.pk} is {run.get_status_display().lower()}"
                continue
            self.say(
                f"{run.action.name} run #{run.pk} {run.get_status_display().lower()}",
                ("admin:actions_actionrun_change", run.pk),
            )
        return pending

    def _resolution(self, incident: Incident) -> str | None:
        incident.refresh_from_db()
        if TimelineEvent.objects.filter(incident=incident, kind=EventKind.AUTO_RESOLVED).exists():
            self.say(
                f"{incident.reference} resolved automatically.",
                ("admin:incidents_incident_change", incident.pk),
            )
            return None
        moving = (
            ActionRun.objects.filter(incident=incident, triggered_by__isnull=False, status__in=MOVING)
            .select_related("action")
            .first()
        )
        if moving is not None:
            return f"{incident.reference} waits for {moving.action.name} run #{moving.pk} to finish"
        fixer, reason = closed_loop_verdict(incident)
        if fixer is not None:
            return f"{incident.reference} is about to resolve automatically"  # The check runs next.
        self.say(f"{incident.reference} stays open: {reason}.")
        return None
