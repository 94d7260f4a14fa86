"""The read-only or self-contained shipped templates really work on this machine, through the
executor and the local runner."""

import http.server
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from actions import template_library
from actions.choices import RunStatus, StepStatus
from actions.models import Action, ActionRun, Provider
from actions.parameters import parameters_validate
from actions.services import (
    action_create_from_template,
    action_run_approve,
    action_run_execute,
    action_run_request,
)
from actions.templating import render_command
from common.actor import Actor, Source

SYSTEM = Actor.system(source=Source.CLI, label="tests")


@pytest.fixture
def local(db, settings) -> Provider:
    settings.ALLOW_LOCAL_PROVIDER = True
    return Provider.objects.create(name="this-worker", kind="local")


@pytest.fixture
def web_server():
    """A local HTTP server answering 200 to everything: something for the checks to probe."""

    class Quiet(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        do_HEAD = do_GET  # noqa: N815

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/health"
    server.shutdown()
    server.server_close()


def execute(key, local, parameters) -> ActionRun:
    action = Action.objects.filter(template_key=key).first() or action_create_from_template(
        by=SYSTEM, template_key=key, target=local
    )
    run = action_run_request(action=action, by=SYSTEM, parameters=parameters)
    action_run_execute(run_id=run.pk, task_id=run.task_id)
    return ActionRun.objects.prefetch_related("step_runs").get(pk=run.pk)


def outcome(run: ActionRun) -> list[tuple[str, str]]:
    return [(s.step_name, s.status) for s in run.step_runs.order_by("step_order")]


LENIENT = {"max_load": "999", "max_disk_percent": "100", "max_memory_percent": "100"}


def test_health_check_passes_on_this_machine(local, web_server):
    run = execute("health-check", local, {**LENIENT, "endpoint": web_server})

    assert run.status == RunStatus.SUCCEEDED, [(s.step_name, s.stdout, s.stderr) for s in run.step_runs.all()]
    steps = {s.step_name: s for s in run.step_runs.all()}
    assert "Load average:" in steps["Uptime and load"].stdout
    assert "Every file system is at or below 100% used." in steps["Disk space"].stdout
    assert "Memory in use:" in steps["Memory"].stdout
    assert f"HTTP 200 from {web_server}" in steps["Port or URL"].stdout


def test_health_check_fails_on_what_is_wrong(local):
    action = action_create_from_template(by=SYSTEM, template_key="health-check", target=local)
    action.steps.update(retry_delay_seconds=0)  # Retried as shipped, without the wait.

    run = execute("health-check", local, {"max_disk_percent": "1", "endpoint": "1"})

    assert run.status == RunStatus.FAILED
    statuses = dict(outcome(run))
    assert statuses["Disk space"] == StepStatus.FAILED
    assert statuses["Memory"] == StepStatus.SUCCEEDED  # Every check runs: the report is whole.
    port = run.step_runs.get(step_name="Port or URL")
    assert (port.status, port.attempts) == (StepStatus.FAILED, 3)
    assert "Nothing listens on TCP port 1" in port.stderr


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("runuser"), reason="needs root to switch to an unprivileged user"
)
def test_health_check_needs_no_root(web_server):
    template = template_library.template_get("health-check")
    values = parameters_validate(template.parameters, {**LENIENT, "endpoint": web_server})
    for spec in template.steps:
        command = render_command(spec["command"], {"params": values})
        done = subprocess.run(
            ["runuser", "-u", "nobody", "--", "/bin/sh", "-c", command],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, (spec["name"], done.stdout, done.stderr)


def test_log_collection_writes_an_archive_and_says_where(local, tmp_path):
    logs = tmp_path / "log"
    (logs / "app").mkdir(parents=True)
    (logs / "app" / "app.log").write_text("error: it broke\n")
    (logs / "syslog").write_text("booted\n")
    out = tmp_path / "archives"

    run = execute("log-collection", local, {"log_dir": str(logs), "out_dir": str(out), "hours": "1"})

    assert run.status == RunStatus.SUCCEEDED, [(s.step_name, s.stdout, s.stderr) for s in run.step_runs.all()]
    [archive] = out.glob("logs-*.tar.gz")
    gather = run.step_runs.get(step_name="Gather and compress the logs")
    assert "Collected 2 log file(s)" in gather.stdout
    assert f":{archive} (" in gather.stdout
    listing = subprocess.run(["tar", "-tzf", str(archive)], capture_output=True, text=True, check=True).stdout
    assert str(logs / "app" / "app.log").lstrip("/") in listing
    assert "summary.txt" in listing
    assert not list(out.glob(".collect.*"))  # The work directory is gone.
    check = run.step_runs.get(step_name="Check the archive")
    assert "Archive: " in check.stdout and str(archive) in check.stdout


def test_backup_then_restore_brings_the_data_back(local, tmp_path, approver):
    data = tmp_path / "srv" / "data"
    (data / "sub").mkdir(parents=True)
    (data / "sub" / "orders.csv").write_text("1,2,3\n")
    backups = tmp_path / "backups"
    params = {"source": str(data), "backup_dir": str(backups)}

    backup = execute("backup", local, params)

    assert backup.status == RunStatus.SUCCEEDED, [(s.step_name, s.stderr) for s in backup.step_runs.all()]
    latest = backups / f"{str(data).lstrip('/').replace('/', '_')}-latest.tar.gz"
    assert latest.is_symlink() and latest.resolve().exists()
    assert Path(f"{latest.resolve()}.sha256").exists()

    (data / "sub" / "orders.csv").write_text("corrupted\n")
    (data / "stray").write_text("not in the backup\n")
    restore = action_create_from_template(by=SYSTEM, template_key="restore", target=local)
    run = action_run_request(action=restore, by=SYSTEM, parameters=params)
    assert run.status == RunStatus.AWAITING_APPROVAL  # High risk: an approver must say yes.
    run = action_run_approve(run=run, by=Actor(user=approver, source=Source.ADMIN))
    action_run_execute(run_id=run.pk, task_id=run.task_id)
    run = ActionRun.objects.get(pk=run.pk)

    assert run.status == RunStatus.SUCCEEDED, [(s.step_name, s.stdout, s.stderr) for s in run.step_runs.all()]
    assert (data / "sub" / "orders.csv").read_text() == "1,2,3\n"
    assert not (data / "stray").exists()
    [saved] = backups.glob("*-before-restore-*.tar.gz")
    listing = subprocess.run(["tar", "-tzf", str(saved)], capture_output=True, text=True, check=True).stdout
    assert "./data/stray" in listing  # What was replaced is kept.
    assert not list((tmp_path / "srv").glob(".mitigate-*"))


def test_service_restart_checks_restarts_and_verifies(local, tmp_path, monkeypatch, web_server):
    log = tmp_path / "systemctl.log"
    fake = tmp_path / "bin" / "systemctl"
    fake.parent.mkdir()
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {log}\n'
        'case "$1" in\n'
        '  status) [ "$6" = missing.service ] && exit 4; echo "nginx.service - fake"; exit 3 ;;\n'
        "  is-active) echo active ;;\n"
        "esac\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")

    run = execute("service-restart", local, {"service": "nginx.service", "health_url": web_server})

    assert run.status == RunStatus.SUCCEEDED, [(s.step_name, s.stdout, s.stderr) for s in run.step_runs.all()]
    calls = log.read_text().splitlines()
    assert "status --no-pager --full --lines=20 -- nginx.service" in calls
    assert "restart -- nginx.service" in calls
    assert "HTTP/1.0 200 OK" in run.step_runs.get(step_name="Verify it answers").stdout

    missing = execute("service-restart", local, {"service": "missing.service", "health_url": web_server})
    assert missing.status == RunStatus.FAILED
    assert outcome(missing) == [
        ("Check the unit", StepStatus.FAILED),
        ("Restart the service", StepStatus.SKIPPED),
        ("Verify it answers", StepStatus.SKIPPED),
    ]
