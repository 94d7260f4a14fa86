"""The shipped action templates: each one is a valid action, its commands are sound POSIX sh, and the
read-only or self-contained ones really work on this machine through the executor and local runner.
Also the gallery page that clones them."""

import http.server
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from actions import template_library
from actions.choices import RunStatus, StepStatus, TargetKind
from actions.models import Action, ActionRun, Provider
from actions.parameters import parameters_validate
from actions.services import (
    action_create_from_template,
    action_run_approve,
    action_run_execute,
    action_run_request,
)
from actions.template_library import TEMPLATES, template_list
from actions.templating import placeholders, render_command
from common.actor import Actor, Source
from common.exceptions import PermissionDeniedError

SYSTEM = Actor.system(source=Source.CLI, label="tests")
KEYS = [t["key"] for t in TEMPLATES]
# Values for the parameters a template requires (the others have defaults).
REQUIRED = {"service": "nginx.service", "source": "/srv/app/data"}


@pytest.fixture
def local(db, settings) -> Provider:
    settings.ALLOW_LOCAL_PROVIDER = True
    return Provider.objects.create(name="this-worker", kind="local")


def values_for(template) -> dict[str, str]:
    names = {p["name"] for p in template.parameters}
    return parameters_validate(template.parameters, {k: v for k, v in REQUIRED.items() if k in names})


# --- Every template is a valid action ----------------------------------------------------------------


def test_the_runbook_procedures_are_all_there():
    names = [t.name for t in template_list()]
    assert names == [
        "Service restart",
        "Disk cleanup",
        "Log collection",
        "Health check",
        "Backup",
        "Restore from backup",
        "Memory cleanup",
    ]
    assert len(set(KEYS)) == len(KEYS)


@pytest.mark.parametrize("key", KEYS)
def test_every_template_clones_through_action_save(key, local):
    template = template_library.template_get(key)

    action = action_create_from_template(by=SYSTEM, template_key=key, target=local)

    action = Action.objects.get(pk=action.pk)
    assert (action.name, action.template_key, action.risk, action.category) == (
        template.name,
        key,
        template.risk,
        template.category,
    )
    assert action.parameters == template.parameters
    assert action.estimated_duration == template.estimated_duration
    steps = list(action.steps.order_by("order"))
    assert [s.name for s in steps] == [s["name"] for s in template.steps]
    for step, spec in zip(steps, template.steps, strict=True):
        assert (step.target_kind, step.provider) == (TargetKind.PROVIDER, local)
        assert (step.condition, step.retries, step.timeout_seconds, step.retry_delay_seconds) == (
            spec["condition"],
            spec["retries"],
            spec["timeout_seconds"],
            spec["retry_delay_seconds"],
        )
        assert step.timeout_seconds > 0


@pytest.mark.parametrize("key", KEYS)
def test_every_command_renders_to_valid_sh(key):
    template = template_library.template_get(key)
    values = values_for(template)
    declared = {p["name"] for p in template.parameters}
    for spec in template.steps:
        used = {name.split(".", 1)[1] for name in placeholders(spec["command"])}
        # Only parameters (runs without an incident must render too), and each with a value.
        assert all(name.startswith("params.") for name in placeholders(spec["command"]))
        assert used <= declared and used <= set(values), spec["name"]
        command = render_command(spec["command"], {"params": values})
        checked = subprocess.run(["sh", "-n", "-c", command], capture_output=True, text=True)
        assert checked.returncode == 0, (spec["name"], checked.stderr)


@pytest.mark.parametrize("key", KEYS)
def test_declarations_are_complete(key):
    template = template_library.template_get(key)
    assert template.summary and template.description and template.tags
    for declaration in template.parameters:
        assert declaration["description"] and declaration["pattern"]
        # An optional parameter without a value could not be substituted: each has a default.
        assert declaration["required"] or declaration.get("default")


@pytest.mark.parametrize("value", ["nginx; reboot", "$(reboot)", "-H evil", "a b", ""])
def test_service_names_are_constrained(value):
    template = template_library.template_get("service-restart")
    with pytest.raises(ValidationError):
        parameters_validate(template.parameters, {"service": value})


def test_restore_is_high_risk_and_backup_is_not():
    assert template_library.template_get("restore").risk == "high"
    assert template_library.template_get("backup").risk == "low"


# --- The service -------------------------------------------------------------------------------------


def test_a_group_target_points_every_step_at_the_group(local, provider_group_factory):
    group = provider_group_factory(providers=[local])

    action = action_create_from_template(
        by=SYSTEM, template_key="health-check", name="Fleet health", target=group
    )

    assert action.name == "Fleet health"
    assert {(s.target_kind, s.provider_group_id, s.provider_id) for s in action.steps.all()} == {
        (TargetKind.GROUP, group.pk, None)
    }


def test_steps_on_the_triggering_host_keep_it(local, monkeypatch):
    spec = {
        "key": "probe",
        "name": "Probe the alerting host",
        "summary": "s",
        "description": "d",
        "category": "diagnostics",
        "risk": "low",
        "tags": ["t"],
        "estimated_duration": template_library.timedelta(seconds=5),
        "parameters": [template_library.param("instance", "The alert's instance label.", required=True)],
        "steps": [
            template_library.step(
                "On the host", "uptime", timeout=5, target="trigger", target_parameter="instance"
            ),
            template_library.step("From here", "true", timeout=5),
        ],
    }
    monkeypatch.setattr(template_library, "TEMPLATES", [*TEMPLATES, spec])

    action = action_create_from_template(by=SYSTEM, template_key="probe", target=local)

    first, second = action.steps.order_by("order")
    assert (first.target_kind, first.target_parameter, first.provider) == (
        TargetKind.TRIGGER,
        "instance",
        None,
    )
    assert (second.target_kind, second.provider) == (TargetKind.PROVIDER, local)
    with pytest.raises(ValidationError) as refused:
        action_create_from_template(by=SYSTEM, template_key="probe", name="Again", target=None)
    assert refused.value.message_dict == {
        "target": ["Choose the provider or provider group the steps run on."]
    }


def test_a_template_with_a_quoted_placeholder_is_refused_from_the_gallery(local, monkeypatch):
    spec = {
        "key": "quoted",
        "name": "Quoted",
        "summary": "s",
        "description": "d",
        "category": "diagnostics",
        "risk": "low",
        "tags": ["t"],
        "estimated_duration": template_library.timedelta(seconds=5),
        "parameters": [template_library.param("unit", "A unit.", required=True)],
        "steps": [template_library.step("Status", 'systemctl status "{{ params.unit }}"', timeout=5)],
    }
    monkeypatch.setattr(template_library, "TEMPLATES", [*TEMPLATES, spec])

    with pytest.raises(ValidationError) as refused:
        action_create_from_template(by=SYSTEM, template_key="quoted", target=local)

    [message] = refused.value.message_dict["steps.1.command"]
    assert "inside double quotes" in message and "without quotes" in message
    assert not Action.objects.filter(name="Quoted").exists()


def test_refusals_write_nothing(local, responder):
    with pytest.raises(ValidationError) as unknown:
        action_create_from_template(by=SYSTEM, template_key="nope", target=local)
    assert "template_key" in unknown.value.message_dict

    action_create_from_template(by=SYSTEM, template_key="backup", target=local)
    with pytest.raises(ValidationError) as taken:
        action_create_from_template(by=SYSTEM, template_key="backup", target=local)
    assert "name" in taken.value.message_dict

    with pytest.raises(PermissionDeniedError):
        action_create_from_template(
            by=Actor(user=responder, source=Source.ADMIN), template_key="restore", target=local
        )
    assert Action.objects.count() == 1


# --- The templates at work on this machine --------------------------------------------------------------


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
