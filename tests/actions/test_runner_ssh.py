"""The SSH runner against a real OpenSSH sshd on 127.0.0.1 (same machine, so the tests can look at
the processes a command started)."""

import subprocess

import pytest

from actions.runners import connection_test, runner_for
from tests.actions.runner_support import (
    Background,
    RecordingSink,
    alive,
    gone_soon,
    start_time,
    wait_for_file,
)

pytestmark = pytest.mark.integration


# Running commands


def test_captures_stdout_and_stderr_apart(runner, sink):
    result = runner().run("echo out; echo err >&2; printf 'no newline'", timeout=10, sink=sink)

    assert result.exit_code == 0
    assert not result.timed_out and not result.cancelled
    assert sink.stdout == b"out\nno newline"
    assert sink.stderr == b"err\n"


def test_reports_a_non_zero_exit(runner, sink):
    result = runner().run("echo failing >&2; exit 3", timeout=10, sink=sink)

    assert result.exit_code == 3
    assert not result.timed_out
    assert sink.stderr == b"failing\n"


def test_only_the_pid_line_is_taken_off_stderr(runner, sink):
    result = runner().run("echo __mitigate_pid=42 >&2; printf tail >&2", timeout=10, sink=sink)

    assert result.exit_code == 0
    assert sink.stderr == b"__mitigate_pid=42\ntail"


def test_stdin_is_empty(runner, sink):
    result = runner().run("cat; echo after", timeout=10, sink=sink)

    assert result.exit_code == 0
    assert sink.stdout == b"after\n"


def test_large_output_arrives_whole(runner, sink):
    result = runner().run("head -c 3000000 /dev/zero | tr '\\0' a; echo end >&2", timeout=30, sink=sink)

    assert result.exit_code == 0
    assert sink.stdout == b"a" * 3_000_000
    assert sink.stderr == b"end\n"


def test_output_reaches_the_sink_while_the_command_runs(runner, tmp_path, sink):
    # The command waits for a file that only the sink creates when the first line arrives: if
    # output were delivered at the end, the command would never finish (and time out).
    go = tmp_path / "go"
    sink.on_write = lambda stream, data: go.touch()
    command = f"echo first; while [ ! -e {go} ]; do sleep 0.05; done; echo second"

    result = runner().run(command, timeout=20, sink=sink)

    assert result.exit_code == 0 and not result.timed_out
    assert sink.stdout == b"first\nsecond\n"


def test_output_streams_in_order_over_time(runner, sink):
    command = "for i in 1 2 3 4 5 6 7 8 9 10; do echo line $i; echo err $i >&2; sleep 0.2; done"

    result = runner().run(command, timeout=20, sink=sink)

    assert result.exit_code == 0
    assert sink.stdout == b"".join(b"line %d\n" % i for i in range(1, 11))
    assert sink.stderr == b"".join(b"err %d\n" % i for i in range(1, 11))
    assert len([c for c in sink.chunks if c[0] == "stdout"]) > 1


# Timeouts and cancels kill everything the command started


def test_timeout_kills_the_remote_command_and_its_children(runner, tmp_path, sink):
    pids = tmp_path / "pids"
    command = f"echo before; sleep 60 & echo $$ $! > {pids}; wait"

    result = runner().run(command, timeout=2, sink=sink)

    assert result.timed_out
    assert result.exit_code is None and not result.cancelled
    assert sink.stdout == b"before\n"
    shell, child = (int(pid) for pid in pids.read_text().split())
    assert gone_soon(shell) and gone_soon(child)


def test_a_command_that_closed_its_output_still_times_out(runner, tmp_path, sink):
    pids = tmp_path / "pids"
    result = runner().run(f"echo $$ > {pids}; exec >/dev/null 2>&1; sleep 60", timeout=1, sink=sink)

    assert result.timed_out
    assert gone_soon(int(pids.read_text()))


def test_cancel_kills_the_remote_command_and_its_children(runner, tmp_path):
    pids = tmp_path / "pids"
    sink = RecordingSink(cancel_when=lambda s: b"started" in s.stdout)
    command = f"sleep 60 & echo $$ $! > {pids}; echo started; wait"

    result = runner().run(command, timeout=60, sink=sink)

    assert result.cancelled
    assert result.exit_code is None and not result.timed_out
    assert sink.stdout == b"started\n"
    shell, child = (int(pid) for pid in pids.read_text().split())
    assert gone_soon(shell) and gone_soon(child)


def test_a_failing_sink_kills_the_remote_command(runner, tmp_path):
    pids = tmp_path / "pids"
    sink = RecordingSink()

    def explode(stream, data):
        raise RuntimeError("sink broke")

    sink.on_write = explode
    with pytest.raises(RuntimeError, match="sink broke"):
        runner().run(f"echo $$ > {pids}; echo x; sleep 60", timeout=60, sink=sink)

    assert gone_soon(int(wait_for_file(pids)))


def test_the_connection_serves_the_next_command_after_a_kill(runner, sink):
    made = runner()
    made.connect()
    assert made.run("sleep 30", timeout=1, sink=RecordingSink()).timed_out

    result = made.run("echo still here", timeout=10, sink=sink)

    assert result.exit_code == 0
    assert sink.stdout == b"still here\n"


def test_a_child_left_in_the_background_does_not_hold_the_run(runner, tmp_path, sink):
    pid_file = tmp_path / "pid"
    result = runner().run(f"sleep 30 & echo $! > {pid_file}; echo done", timeout=20, sink=sink)

    assert result.exit_code == 0
    assert sink.stdout == b"done\n"
    pid = int(pid_file.read_text())
    assert alive(pid)  # like under plain ssh, it was not the runner's to kill
    subprocess.run(["kill", str(pid)], check=False)


# One connection per runner


def test_commands_share_one_connection(runner, sshd):
    made = runner()
    before = sshd.connections()
    made.connect()
    made.connect()
    first, second = RecordingSink(), RecordingSink()

    assert made.run("echo one", timeout=10, sink=first).exit_code == 0
    assert made.run("echo two", timeout=10, sink=second).exit_code == 0
    made.close()

    assert (first.stdout, second.stdout) == (b"one\n", b"two\n")
    assert sshd.connections() == before + 1


def test_reconnects_when_the_connection_dropped_between_commands(runner, sink):
    made = runner()
    made.connect()
    made._client.get_transport().close()

    result = made.run("echo back", timeout=10, sink=sink)

    assert result.exit_code == 0
    assert sink.stdout == b"back\n"


def test_close_twice_is_fine(runner):
    made = runner()
    made.connect()
    made.close()
    made.close()


# sudo


def test_use_sudo_runs_the_command_through_sudo_n(ssh_provider, sudo_sshd, sink):
    made = runner_for(ssh_provider(sudo_sshd, use_sudo=True))
    try:
        result = made.run("printf '%s' \"it's $((6 * 7))\"", timeout=10, sink=sink)
    finally:
        made.close()

    assert result.exit_code == 0
    assert sink.stdout == b"it's 42"
    assert sudo_sshd.sudo_log.read_text().splitlines()[-1].startswith("-n sh -c ")


def test_use_sudo_cancel_kills_through_sudo(ssh_provider, sudo_sshd, tmp_path):
    pids = tmp_path / "pids"
    sink = RecordingSink(cancel_when=lambda s: b"started" in s.stdout)
    made = runner_for(ssh_provider(sudo_sshd, use_sudo=True))
    try:
        result = made.run(f"sleep 60 & echo $$ $! > {pids}; echo started; wait", timeout=60, sink=sink)
    finally:
        made.close()

    assert result.cancelled
    shell, child = (int(pid) for pid in wait_for_file(pids).split())
    assert gone_soon(shell) and gone_soon(child)
    assert sudo_sshd.sudo_log.read_text().splitlines()[-1].startswith("-n kill -s KILL -- -")


def test_connection_test_runs_true_with_sudo(ssh_provider, sudo_sshd):
    ok, _, message = connection_test(ssh_provider(sudo_sshd, use_sudo=True))

    assert ok, message
    assert sudo_sshd.sudo_log.read_text().splitlines()[-1].startswith("-n sh -c ")


# The process group, for abandoned runs: reported when the command starts, killed over SSH


def test_the_process_group_and_its_start_time_are_reported(runner, sink):
    result = runner().run("ps -o pgid= -p $$", timeout=10, sink=sink)

    assert result.exit_code == 0
    (group,) = sink.groups
    assert group["pgid"] == int(sink.stdout)
    assert sink.stderr == b""  # The marker is taken out.


def test_kill_group_over_a_new_connection_kills_what_a_dead_worker_left(runner, ssh_provider, tmp_path):
    provider = ssh_provider()
    pids = tmp_path / "pids"
    running = Background(runner(provider), f"sleep 60 & echo $$ $! > {pids}; sleep 60", timeout=60)
    shell, child = (int(pid) for pid in wait_for_file(pids).split())
    leader = running.group["pgid"]
    assert running.group["start"] == start_time(leader)  # The `timeout` that leads the group.

    said = runner(provider).kill_group(running.group)

    assert said == f"killed process group {leader} on {provider.address}:{provider.port}"
    assert gone_soon(leader) and gone_soon(shell) and gone_soon(child)
    running.join()
    again = runner(provider).kill_group(running.group)
    assert again == f"process group {leader} on {provider.address}:{provider.port} had already exited"


def test_kill_group_leaves_a_reused_pid_alone(runner, ssh_provider, tmp_path):
    provider = ssh_provider()
    pids = tmp_path / "pids"
    running = Background(runner(provider), f"echo $$ > {pids}; sleep 60", timeout=60)
    shell = int(wait_for_file(pids))
    leader = running.group["pgid"]

    said = runner(provider).kill_group({**running.group, "start": running.group["start"] + 1})

    assert said == f"process group {leader} on {provider.address}:{provider.port} had already exited"
    assert alive(leader) and alive(shell)
    assert runner(provider).kill_group(running.group).startswith("killed")
    running.join()


def test_kill_group_through_sudo(runner, ssh_provider, sudo_sshd, tmp_path):
    provider = ssh_provider(sudo_sshd, use_sudo=True)
    pids = tmp_path / "pids"
    running = Background(runner(provider), f"echo $$ > {pids}; sleep 60", timeout=60)
    shell = int(wait_for_file(pids))

    assert runner(provider).kill_group(running.group).startswith("killed process group")

    assert gone_soon(shell)
    assert sudo_sshd.sudo_log.read_text().splitlines()[-1] == f"-n kill -s KILL -- -{running.group['pgid']}"
    running.join()
