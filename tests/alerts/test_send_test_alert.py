"""send_test_alert: posts over real HTTP to the live webhook, in each source's own format."""

import os
import stat
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError
from django.db import transaction

from alerts.choices import AlertStatus, IncidentPolicy, SourceKind
from alerts.management.alert_sender import build_payload
from alerts.management.demo_token_file import demo_token_path, demo_tokens_read
from alerts.models import Alert, AlertPayload
from alerts.parsers import fingerprint_of, parse
from alerts.services import alert_rule_save
from alerts.services.processing import alerts_process
from common.actor import Actor
from demo.tokens import demo_token_write

LABELS = {"alertname": "InstanceDown", "instance": "127.0.0.1:8000", "job": "demo", "severity": "critical"}


@pytest.fixture(autouse=True)
def _private_var(settings, tmp_path, monkeypatch):
    """The demo token file goes to a temporary VAR_DIR, and no token comes from the environment."""
    settings.VAR_DIR = tmp_path
    monkeypatch.delenv("MITIGATE_ALERT_TOKEN", raising=False)
    monkeypatch.delenv("MITIGATE_URL", raising=False)


def send(*args: str) -> str:
    out = StringIO()
    call_command("send_test_alert", *args, stdout=out)
    return out.getvalue()


class TestPayloads:
    """What the command builds is what the source's parser accepts, with one fingerprint for both
    notifications of an alert."""

    @pytest.mark.parametrize("kind", SourceKind.values)
    def test_each_kind_parses_and_keeps_its_fingerprint(self, kind):
        started = datetime(2024, 3, 5, 14, 2, 11, tzinfo=UTC)
        annotations = {"summary": "down"}
        firing = parse(
            kind,
            build_payload(kind, labels=LABELS, annotations=annotations, resolved=False, starts_at=started),
        )
        resolved = parse(
            kind,
            build_payload(
                kind,
                labels=LABELS,
                annotations=annotations,
                resolved=True,
                starts_at=started,
                ends_at=started + timedelta(minutes=3),
            ),
        )

        [fired], [cleared] = firing.alerts, resolved.alerts
        assert fired.fingerprint == cleared.fingerprint == fingerprint_of(LABELS)
        assert (fired.status, cleared.status) == ("firing", "resolved")
        assert fired.name == cleared.name == "InstanceDown"
        assert fired.severity == "critical"
        assert fired.labels == LABELS and fired.annotations == annotations
        assert fired.starts_at == started and fired.ends_at is None
        assert cleared.ends_at == started + timedelta(minutes=3)

    def test_fingerprint_ignores_label_order(self):
        reordered = dict(reversed(LABELS.items()))
        now = datetime.now(UTC)
        one = build_payload("alertmanager", labels=LABELS, annotations={}, resolved=False, starts_at=now)
        two = build_payload("alertmanager", labels=reordered, annotations={}, resolved=False, starts_at=now)
        assert one["alerts"][0]["fingerprint"] == two["alerts"][0]["fingerprint"]


class TestOverHttp:
    @pytest.mark.parametrize("kind", SourceKind.values)
    def test_fire_then_resolve_lands_on_one_alert(self, live_server, make_source, kind):
        # Grafana sources may sign bodies: the command signs with the source's secret.
        secret = "s3cret" if kind == SourceKind.GRAFANA else ""
        source, token = make_source(name=f"Test {kind}", slug=kind, kind=kind, hmac_secret=secret)
        common = ("--source", kind, "--url", live_server.url, f"--token={token}", "--no-wait")

        out = send(*common)
        assert "HTTP 202" in out
        alert = Alert.objects.get(source=source)
        assert alert.status == AlertStatus.FIRING
        assert alert.name == "InstanceDown" and alert.severity == "critical"
        assert alert.labels["instance"] == live_server.url.removeprefix("http://")
        assert f"/admin/alerts/alert/{alert.pk}/change/" in out

        out = send(*common, "--resolve")
        assert "HTTP 202" in out
        alert = Alert.objects.get(source=source)  # The same one: the fingerprint matched.
        assert alert.status == AlertStatus.RESOLVED and alert.ends_at is not None
        assert AlertPayload.objects.filter(source=source).count() == 2

    def test_labels_and_options_reach_the_alert(self, live_server, make_source):
        _, token = make_source()
        send(
            "--source",
            "prometheus",
            "--url",
            live_server.url,
            f"--token={token}",
            "--no-wait",
            "--alertname",
            "HighLatency",
            "--severity",
            "warning",
            "--instance",
            "web-3:9100",
            "--label",
            "team=storefront",
            "--label",
            "job=node",
        )
        alert = Alert.objects.get()
        assert alert.name == "HighLatency" and alert.severity == "warning"
        assert alert.labels == {
            "alertname": "HighLatency",
            "instance": "web-3:9100",
            "job": "node",
            "severity": "warning",
            "team": "storefront",
        }

    def test_wrong_token_exits_non_zero_with_the_401(self, live_server, make_source, capsys):
        make_source()
        argv = ["manage.py", "send_test_alert", "--source", "prometheus", "--url", live_server.url]
        with pytest.raises(SystemExit) as exited:
            execute_from_command_line([*argv, "--token", "not-the-token", "--no-wait"])

        assert exited.value.code != 0
        captured = capsys.readouterr()
        assert "HTTP 401" in captured.out
        assert "HTTP 401 not_authenticated: Unknown or missing alert source token." in captured.err
        assert "--token" in captured.err
        assert not Alert.objects.exists()

    def test_token_from_the_environment(self, live_server, make_source, monkeypatch):
        _, token = make_source()
        monkeypatch.setenv("MITIGATE_ALERT_TOKEN", token)
        assert "HTTP 202" in send("--source", "prometheus", "--url", live_server.url, "--no-wait")

    def test_token_from_the_demo_file(self, live_server, make_source):
        _, token = make_source()
        demo_token_write("prometheus", token)
        assert stat.S_IMODE(os.stat(demo_token_path()).st_mode) == 0o600
        assert "HTTP 202" in send("--source", "prometheus", "--url", live_server.url, "--no-wait")

    def test_unreachable_server(self, make_source):
        _, token = make_source()
        with pytest.raises(CommandError, match=r"Could not reach http://127\.0\.0\.1:9/hooks/prometheus/"):
            send("--source", "prometheus", "--url", "http://127.0.0.1:9", f"--token={token}", "--no-wait")

    def test_reports_what_processing_did(self, live_server, make_source, monkeypatch, priorities):
        """With processing run right after the webhook commits (the worker's job), the command says
        which incident opened, and why it stays open after the resolution."""

        def process_on_commit(alert_ids):
            transaction.on_commit(lambda: alerts_process(alert_ids=alert_ids))

        monkeypatch.setattr("alerts.services.ingest.processing_enqueue", process_on_commit)
        _, token = make_source()
        alert_rule_save(
            by=Actor.system(),
            data={
                "name": "Down",
                "alert_name": "InstanceDown",
                "priority": priorities["P2"],
                "incident_policy": IncidentPolicy.CREATE,
            },
        )
        common = ("--source", "prometheus", "--url", live_server.url, f"--token={token}", "--wait", "5")

        out = send(*common)
        alert = Alert.objects.select_related("incident").get()
        reference = alert.incident.reference
        assert f"Opened {reference}: InstanceDown" in out
        assert f"/admin/incidents/incident/{alert.incident.pk}/change/" in out
        assert "--resolve" in out

        out = send(*common, "--resolve")
        assert f"{reference} stays open: no automated run succeeded." in out


class TestRefusals:
    def test_unknown_slug(self, db, make_source):
        make_source()
        with pytest.raises(CommandError, match=r"No alert source with slug 'nope'.*sources: prometheus"):
            send("--source", "nope", "--token", "x", "--no-wait")

    def test_missing_token_explains_where_to_get_one(self, db, make_source):
        make_source()
        with pytest.raises(CommandError) as refused:
            send("--source", "prometheus", "--no-wait")
        message = str(refused.value)
        assert "--token" in message and "MITIGATE_ALERT_TOKEN" in message and "rotate" in message

    def test_bad_label(self, db, make_source):
        make_source()
        with pytest.raises(CommandError, match="expected name=value"):
            send("--source", "prometheus", "--token", "x", "--label", "oops", "--no-wait")


def test_demo_tokens_are_filed_per_database(db, tmp_path):
    demo_token_write("prometheus", "one")
    demo_token_write("grafana", "two")
    assert demo_tokens_read() == {"prometheus": "one", "grafana": "two"}
    demo_token_path().write_text("not json")
    assert demo_tokens_read() == {}
