"""seed_demo's notifications and the demo's webhook receiver (manage.py notification_receiver)."""

import os
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

from common.actor import Actor
from incidents.models import Priority, Service
from incidents.services import incident_create
from notifications.choices import RULE_KINDS, ChannelKind, DeliveryStatus, EventKind
from notifications.integrations import webhook
from notifications.management.receiver import (
    RECEIVER_PORT_OFFSET,
    RECEIVER_SECRET_ENV,
    receiver_secret_path,
    secret_file_read,
)
from notifications.models import Channel, Delivery, NotificationRule
from notifications.services import routing, sending
from notifications.transport import Message, PermanentSendError, Target
from tests.enqueued import enqueued

ROOT = Path(__file__).resolve().parents[2]
WEBHOOK = "Demo receiver"
RULE = "Demo: every event to the local receiver"
DEFAULT_RULES = ("P1/P2 opened: tell the ops channel", "Runs awaiting approval: tell the approvers")


@pytest.fixture(autouse=True)
def _demo(db, settings, tmp_path):
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path  # The receiver's secret file stays out of the real var/.
    settings.WEB_PORT = 8000  # Whatever PORT the test run was started with.


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", "--no-history", stdout=out)
    return out.getvalue()


def free_port(above: int = 0) -> int:
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port > above:
            return port


def message(**changes) -> Message:
    fields = {
        "event_kind": "incident_opened",
        "event_label": "Incident opened",
        "subject": "[P2] INC-2026-0042 opened: Checkout errors",
        "text": "Checkout returns 500 for 30% of requests.",
        "url": "http://127.0.0.1:8000/admin/incidents/incident/42/change/",
        "severity": "P2",
        "incident_id": 42,
        "incident_reference": "INC-2026-0042",
    }
    return Message(**{**fields, **changes})


class ReceiverProcess:
    """manage.py notification_receiver as `make run` starts it, in a process of its own."""

    def __init__(self, tmp_path: Path, port: int, env: dict[str, str]) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}/"
        self.out, self.err = tmp_path / "receiver.out", tmp_path / "receiver.err"
        environment = {
            **os.environ,
            "VAR_DIR": str(tmp_path),
            "SECRET_KEY": django_settings.SECRET_KEY,
            "PORT": str(port),
            **env,
        }
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "notification_receiver"],
                cwd=ROOT,
                env=environment,
                stdout=out,
                stderr=err,
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(self.url, timeout=1) as response:
                    assert response.status == 200
                    return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError(f"the receiver did not start: {self.err.read_text()}") from None
                time.sleep(0.1)

    def stop(self) -> tuple[str, str]:
        if self.process.poll() is None:
            self.process.terminate()  # SIGTERM, as honcho stops it.
            self.process.wait(timeout=10)
        return self.out.read_text(), self.err.read_text()


@pytest.fixture
def receiver_process(tmp_path):
    started: list[ReceiverProcess] = []

    def start(port: int, **env: str) -> ReceiverProcess:
        started.append(ReceiverProcess(tmp_path, port, env))
        return started[-1]

    yield start
    for process in started:
        process.stop()


def test_seeding_sets_up_the_channels_and_rules_through_the_services(settings, tmp_path):
    from demo.seed import notifications as seeding

    # As `make run` has it without EMAIL_URL (pytest-django swaps in the in-memory backend).
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")

    with (
        mock.patch.object(seeding, "channel_save", wraps=seeding.channel_save) as channel_save,
        mock.patch.object(seeding, "rule_save", wraps=seeding.rule_save) as rule_save,
    ):
        out = seed()

    assert {call.kwargs["name"] for call in channel_save.call_args_list} == {"Ops", WEBHOOK}
    assert RULE in {call.kwargs.get("name") for call in rule_save.call_args_list}
    ops = Channel.objects.get(name="Ops")
    assert (ops.kind, ops.enabled, ops.config["to"]) == (ChannelKind.EMAIL, True, ["ops@example.com"])
    channel = Channel.objects.get(name=WEBHOOK)
    assert channel.kind == ChannelKind.WEBHOOK and channel.enabled
    assert channel.config["url"] == f"http://127.0.0.1:{8000 + RECEIVER_PORT_OFFSET}/"
    assert len(channel.secret) >= 32
    assert secret_file_read(receiver_secret_path()) == channel.secret
    assert stat.S_IMODE(os.stat(receiver_secret_path()).st_mode) == 0o600
    rule = NotificationRule.objects.get(name=RULE)
    assert rule.enabled and list(rule.channels.all()) == [channel]
    assert set(rule.event_kinds) == set(RULE_KINDS) - {EventKind.TEST}
    assert not rule.priorities.exists() and not rule.services.exists()
    assert all(NotificationRule.objects.get(name=name).enabled for name in DEFAULT_RULES)
    # The banner says where the messages appear.
    assert "the `receiver` process prints each message in this console" in out
    assert f"filed in {receiver_secret_path()} for the receiver" in out
    assert f"is written as files to {tmp_path / 'mail'}/" in out


def test_seeding_again_changes_nothing():
    seed()
    before = (
        list(Channel.objects.values_list("pk", "name", "config", "enabled")),
        list(NotificationRule.objects.values_list("pk", "name", "enabled", "event_kinds")),
        Channel.objects.get(name=WEBHOOK).secret,
    )

    out = seed()

    after = (
        list(Channel.objects.values_list("pk", "name", "config", "enabled")),
        list(NotificationRule.objects.values_list("pk", "name", "enabled", "event_kinds")),
        Channel.objects.get(name=WEBHOOK).secret,
    )
    assert after == before
    assert secret_file_read(receiver_secret_path()) == before[2]
    assert "Signing secret unchanged" in out


def test_a_lost_secret_file_is_replaced_and_the_channel_follows_the_port(settings):
    seed()
    old = Channel.objects.get(name=WEBHOOK).secret
    receiver_secret_path().unlink()
    settings.WEB_PORT = 9000

    out = seed()

    channel = Channel.objects.get(name=WEBHOOK)
    assert channel.secret != old and secret_file_read(receiver_secret_path()) == channel.secret
    assert channel.config["url"] == f"http://127.0.0.1:{9000 + RECEIVER_PORT_OFFSET}/"
    assert "Signing secret rotated" in out


def test_someones_own_choices_are_kept():
    """An Ops address someone set and a rule they switched off stay as they are on the next run."""
    seed()
    by = Actor.system()
    from notifications.services.channels import channel_save
    from notifications.services.configuration import rule_save

    ops = Channel.objects.get(name="Ops")
    channel_save(by=by, channel=ops, name="Ops", kind=ops.kind, config={"to": ["oncall@corp.example"]})
    rule_save(by=by, rule=NotificationRule.objects.get(name=RULE), enabled=False)

    seed()

    assert Channel.objects.get(name="Ops").config["to"] == ["oncall@corp.example"]
    assert not NotificationRule.objects.get(name=RULE).enabled


def test_seeding_routes_none_of_the_demo_incidents(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        seed()
    assert enqueued(callbacks, "notifications.") == []

    # Muted only while seeding: the next incident is routed as usual.
    with django_capture_on_commit_callbacks() as callbacks:
        incident_create(by=Actor.system(), title="After the seed", priority=Priority.objects.get(code="P3"))
    assert enqueued(callbacks, "notifications.") == ["notifications.tasks.event_route"]


def test_the_receiver_is_the_procfile_line_the_channel_points_at():
    processes = [line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip()]
    names = [name.strip() for name, _ in processes]
    # honcho gives the n-th process type (from 0) PORT + 100 n.
    assert names.index("receiver") * 100 == RECEIVER_PORT_OFFSET
    assert "manage.py notification_receiver" in dict(processes)["receiver"]


@pytest.mark.integration
def test_the_receiver_prints_verified_messages_and_refuses_bad_signatures(receiver_process):
    secret = "demo-receiver-test-secret"
    receiver = receiver_process(free_port(), **{RECEIVER_SECRET_ENV: secret})
    target = Target(kind=ChannelKind.WEBHOOK, config={"url": receiver.url}, secret=secret)

    result = webhook.send(target, message())
    with pytest.raises(PermanentSendError, match="HTTP 401"):
        webhook.send(Target(kind=target.kind, config=target.config, secret="wrong"), message())

    out, err = receiver.stop()
    assert result.payload["incident"]["reference"] == "INC-2026-0042"
    assert "Incident opened [incident_opened]  INC-2026-0042 P2" in out
    assert "[P2] INC-2026-0042 opened: Checkout errors" in out
    assert "    Checkout returns 500 for 30% of requests." in out
    assert out.count("INC-2026-0042 P2") == 1  # The refused post printed nothing.
    assert "Rejected POST / from 127.0.0.1: bad signature (401)." in err
    assert secret not in out + err


@pytest.mark.integration
def test_the_receiver_refuses_stale_and_unsigned_posts(receiver_process):
    secret = "demo-receiver-test-secret"
    receiver = receiver_process(free_port(), **{RECEIVER_SECRET_ENV: secret})
    body = b'{"event": "test"}'
    stale = str(int(time.time()) - 600)
    for headers in (
        {},
        {"X-Mitigate-Timestamp": stale, "X-Mitigate-Signature": webhook.sign(secret, stale, body)},
    ):
        request = urllib.request.Request(receiver.url, data=body, headers=headers, method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 401

    out, err = receiver.stop()
    assert "missing or malformed X-Mitigate-Timestamp (401)" in err
    assert "more than 300 s from this clock (401)" in err
    assert "[test]" not in out


@pytest.mark.integration
def test_the_demo_webhook_channel_delivers_to_the_receiver(
    settings, receiver_process, django_capture_on_commit_callbacks
):
    """End to end: seed_demo's channel and secret file, the receiver command reading that file, and
    an incident opened afterwards routed by the demo rule and sent through the ledger."""
    port = free_port(above=1024 + RECEIVER_PORT_OFFSET)
    settings.WEB_PORT = port - RECEIVER_PORT_OFFSET
    seed()
    receiver = receiver_process(port)  # No secret in the environment: it reads the seeded file.

    with django_capture_on_commit_callbacks() as callbacks:
        incident = incident_create(
            by=Actor.system(),
            title="Checkout errors",
            description="Checkout returns 500.",
            priority=Priority.objects.get(code="P2"),
            services=[Service.objects.get(slug="web")],
        )
    [event] = [
        callback.args[1]["event"]
        for callback in callbacks
        if getattr(callback, "args", None) and callback.args[0] == "notifications.tasks.event_route"
    ]
    deliveries = routing.event_route(event=event)
    [delivery] = [d for d in deliveries if d.channel and d.channel.name == WEBHOOK]
    sent = sending.delivery_send(delivery_id=delivery.pk)

    out, err = receiver.stop()
    assert sent.status == DeliveryStatus.SENT, sent.error
    assert Delivery.objects.filter(incident=incident, channel__name=WEBHOOK).count() == 1
    assert f"Incident opened [incident_opened]  {incident.reference} P2" in out
    assert "Checkout errors" in out
    assert "Rejected" not in err
