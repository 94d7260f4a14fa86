"""The local runner: /bin/sh on the worker's own machine, only when ALLOW_LOCAL_PROVIDER is on."""

import os

import pytest

from actions.runners import LocalRunner, SSHRunner, connection_test, runner_for
from actions.runners.base import RunnerError
from actions.runners.local import machine_id
from tests.actions.runner_support import (
    Background,
    RecordingSink,
    alive,
    gone_soon,
    start_time,
    wait_for_file,
)


@pytest.fixture
def runner(local_provider) -> LocalRunner:
    made = runner_for(local_provider)
    made.connect()
    yield made
    made.close()


def test_runner_for_picks_the_runner_by_kind(local_provider, db):
    from actions.models import Provider

    assert isinstance(runner_for(local_provider), LocalRunner)
    assert isinstance(runner_for(Provider(name="h", address="h")), SSHRunner)


def test_captures_stdout_and_stderr_apart(runner, sink):
    result = runner.run("echo out; echo err >&2; printf 'no newline'", timeout=10, sink=sink)

    assert result.exit_code == 0
    assert not result.timed_out and not result.cancelled
    assert sink.stdout == b"out\nno newline"
    assert sink.stderr == b"err\n"


def test_reports_a_non_zero_exit(runner, sink):
    result = runner.run("echo failing >&2; exit 3", timeout=10, sink=sink)

    assert result.exit_code == 3
    assert sink.stderr == b"failing\n"


def test_a_command_killed_by_a_signal_has_no_exit_code(runner, sink):
    result = runner.run("kill -s KILL $$", timeout=10, sink=sink)

    assert result.exit_code is None
    assert not result.timed_out and not result.cancelled


def test_stdin_is_empty(runner, sink):
    result = runner.run("cat; echo after", timeout=10, sink=sink)

    assert result.exit_code == 0
    assert sink.stdout == b"after\n"


def test_large_output_arrives_whole(runner, sink):
    result = runner.run("head -c 3000000 /dev/zero | tr '\\0' a; echo end >&2", timeout=30, sink=sink)

    assert result.exit_code == 0
    assert sink.stdout == b"a" * 3_000_000
    assert sink.stderr == b"end\n"


def test_output_reaches_the_sink_while_the_command_runs(runner, tmp_path, sink):
    go = tmp_path / "go"
    sink.on_write = lambda stream, data: go.touch()
    command = f"echo first; while [ ! -e {go} ]; do sleep 0.05; done; echo second"

    result = runner.run(command, timeout=20, sink=sink)

    assert result.exit_code == 0 and not result.timed_out
    assert sink.stdout == b"first\nsecond\n"


def test_output_streams_in_order_over_time(runner, sink):
    command = "for i in 1 2 3 4 5 6 7 8 9 10; do echo line $i; echo err $i >&2; sleep 0.2; done"

    result = runner.run(command, timeout=20, sink=sink)

    assert result.exit_code == 0
    assert sink.stdout == b"".join(b"line %d\n" % i for i in range(1, 11))
    assert sink.stderr == b"".join(b"err %d\n" % i for i in range(1, 11))
    assert len([c for c in sink.chunks if c[0] == "stdout"]) > 1


def test_timeout_kills_the_command_and_its_children(runner, tmp_path, sink):
    pids = tmp_path / "pids"
    command = f"echo before; sleep 60 & echo $$ $! > {pids}; wait"

    result = runner.run(command, timeout=1, sink=sink)

    assert result.timed_out
    assert result.exit_code is None and not result.cancelled
    assert sink.stdout == b"before\n"
    shell, child = (int(pid) for pid in pids.read_text().split())
    assert gone_soon(shell) and gone_soon(child)


def test_a_command_that_closed_its_output_still_times_out(runner, tmp_path, sink):
    pids = tmp_path / "pids"
    result = runner.run(f"echo $$ > {pids}; exec >/dev/null 2>&1; sleep 60", timeout=1, sink=sink)

    assert result.timed_out
    assert gone_soon(int(pids.read_text()))


def test_cancel_kills_the_command_and_its_children(runner, tmp_path):
    pids = tmp_path / "pids"
    sink = RecordingSink(cancel_when=lambda s: b"started" in s.stdout)

    result = runner.run(f"sleep 60 & echo $$ $! > {pids}; echo started; wait", timeout=60, sink=sink)

    assert result.cancelled
    assert result.exit_code is None and not result.timed_out
    assert sink.stdout == b"started\n"
    shell, child = (int(pid) for pid in pids.read_text().split())
    assert gone_soon(shell) and gone_soon(child)


def test_a_failing_sink_kills_the_command(runner, tmp_path):
    pids = tmp_path / "pids"
    sink = RecordingSink()

    def explode(stream, data):
        raise RuntimeError("sink broke")

    sink.on_write = explode
    with pytest.raises(RuntimeError, match="sink broke"):
        runner.run(f"echo $$ > {pids}; echo x; sleep 60", timeout=60, sink=sink)

    assert gone_soon(int(pids.read_text()))


def test_a_child_left_in_the_background_does_not_hold_the_run(runner, tmp_path, sink):
    pid_file = tmp_path / "pid"
    result = runner.run(f"sleep 30 & echo $! > {pid_file}; echo done", timeout=20, sink=sink)

    assert result.exit_code == 0
    assert sink.stdout == b"done\n"
    pid = int(pid_file.read_text())
    assert alive(pid)
    runner.run(f"kill {pid}", timeout=5, sink=RecordingSink())


def test_not_allowed_unless_the_setting_is_on(local_provider, settings, sink):
    settings.ALLOW_LOCAL_PROVIDER = False
    made = runner_for(local_provider)

    with pytest.raises(RunnerError) as connecting:
        made.connect()
    with pytest.raises(RunnerError) as running:
        made.run("echo never", timeout=5, sink=sink)

    assert connecting.value.code == running.value.code == "not_allowed"
    assert sink.chunks == []


def test_connection_test(local_provider, settings):
    assert connection_test(local_provider)[0] is True
    assert connection_test(local_provider)[2] == ""

    settings.ALLOW_LOCAL_PROVIDER = False
    ok, latency_ms, message = connection_test(local_provider)

    assert not ok and latency_ms is None
    assert message.startswith("not_allowed: ")


# The process group, for abandoned runs: recorded when the command starts, killed by the sweeper


def test_the_process_group_is_reported_when_the_command_starts(runner, sink):
    result = runner.run("echo $$", timeout=10, sink=sink)

    assert result.exit_code == 0
    shell = int(sink.stdout)
    assert sink.groups == [{"pgid": shell, "start": sink.groups[0]["start"], "machine": machine_id()}]
    assert isinstance(sink.groups[0]["start"], int)


def test_the_command_leads_its_own_group_in_the_workers_session(runner, sink):
    # A group of its own is what a timeout, a cancel and the sweeper kill; a new session would make
    # Python start it without vfork (actions/runners/local.py says why that matters).
    result = runner.run("cut -d' ' -f1,5,6 /proc/$$/stat", timeout=10, sink=sink)

    assert result.exit_code == 0
    pid, group, session = (int(field) for field in sink.stdout.split())
    assert group == pid and session == os.getsid(0)


def test_kill_group_kills_what_a_dead_worker_left_running(runner, tmp_path):
    pids = tmp_path / "pids"
    running = Background(runner, f"sleep 60 & echo $$ $! > {pids}; sleep 60", timeout=60)
    shell, child = (int(pid) for pid in wait_for_file(pids).split())
    assert running.group["pgid"] == shell and running.group["start"] == start_time(shell)

    # Another runner, as the sweeper has: the one that started the command belongs to a dead worker.
    said = LocalRunner().kill_group(running.group)

    assert said == f"killed process group {shell}"
    assert gone_soon(shell) and gone_soon(child)
    assert running.join().exit_code is None
    assert LocalRunner().kill_group(running.group) == f"process group {shell} had already exited"


def test_kill_group_leaves_a_reused_pid_alone(runner, tmp_path):
    pids = tmp_path / "pids"
    running = Background(runner, f"echo $$ > {pids}; sleep 60", timeout=60)
    shell = int(wait_for_file(pids))
    # The same pid, but not the process that was started: the pid was handed out again.
    reused = {**running.group, "start": running.group["start"] - 1}
    elsewhere = {**running.group, "machine": "worker-2/another-boot"}

    assert LocalRunner().kill_group(reused) == f"process group {shell} had already exited"
    assert LocalRunner().kill_group(elsewhere) == (
        f"process group {shell} was started on worker-2/another-boot, not on this worker "
        f"({machine_id()}): not killed"
    )
    assert alive(shell)
    assert LocalRunner().kill_group(running.group) == f"killed process group {shell}"
    running.join()
