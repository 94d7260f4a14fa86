"""What send_test_alert does besides reading its options: the payload in each source format, the
post over HTTP, and watching the database for what Mitigate did with the alert."""

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from django.core.management.base import CommandError
from django.urls import NoReverseMatch, reverse

from actions.models import ActionRun
from alerts.choices import AlertStatus, SourceKind
from alerts.models import Alert, TriggeredRun
from alerts.parsers import fingerprint_of
from alerts.parsers.body import SIGNATURE_HEADER
from alerts.services.closed_loop import closed_loop_verdict
from incidents.choices import EventKind
from incidents.models import Incident, TimelineEvent

TOKEN_ENV = "MITIGATE_ALERT_TOKEN"
ZERO_TIME = "0001-01-01T00:00:00Z"  # Alertmanager's endsAt while an alert fires.
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# Runs that may still finish while we watch; the others are decided or wait for a person.
MOVING = ("pending", "approved", "scheduled", "running")
POLL_SECONDS = 0.5


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


def webhook_post(
    url: str, body: bytes, *, token: str, signature: str | None, timeout: float
) -> tuple[int, str]:
    """Post the body as the monitoring system would: (HTTP status, body text)."""
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


def webhook_failure(status: int, text: str, slug: str) -> str:
    """Why the webhook refused the alert, with a hint for the usual causes."""
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

    def __init__(self, write: Callable[[str], None], base: str, alert_id: int, resolved: bool):
        self.write = write
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
        self.write(line)

    def run(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            waiting_for = self.step()
            if waiting_for is None:
                return
            if time.monotonic() >= deadline:
                self.write(f"Stopped watching after {seconds:g} s: {waiting_for}.")
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
            ActionRun.objects.filter(incident=incident, automated=True, status__in=MOVING)
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
