"""The SSH runner against a real OpenSSH sshd on 127.0.0.1 (same machine, so the tests can look at
the processes a command started)."""

import socket
import subprocess

import paramiko
import pytest

from actions.choices import AuthMethod
from actions.runners import (
    SSHRunner,
    connection_test,
    host_key_fetch,
    host_key_fingerprint,
    runner_for,
)
from actions.runners.base import RunnerError
from tests.actions.conftest import PASSPHRASE
from tests.actions.runner_support import (
    Background,
    RecordingSink,
    alive,
    gone_soon,
    start_time,
    wait_for_file,
)
from tests.actions.sshd import free_port, keygen, program, public_key

pytestmark = pytest.mark.integration


def ssh_keygen_fingerprint(public_key_path) -> str:
    out = subprocess.run(
        [program("ssh-keygen"), "-lf", str(public_key_path)], check=True, capture_output=True, text=True
    )
    return out.stdout.split()[1]


@pytest.fixture
def runner(ssh_provider):
    runners = []

    def make(provider=None, **overrides) -> SSHRunner:
        made = runner_for(provider or ssh_provider(**overrides))
        runners.append(made)
        return made

    yield make
    for made in runners:
        made.close()


def connect_error(provider) -> RunnerError:
    made = runner_for(provider)
    try:
        with pytest.raises(RunnerError) as info:
            made.connect()
    finally:
        made.close()
    return info.value


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


# Credentials


@pytest.mark.parametrize(
    ("key_file", "passphrase"),
    [("client_rsa_pem", ""), ("client_ecdsa", ""), ("client_ed25519_pass", PASSPHRASE)],
)
def test_key_types_and_formats(runner, sshd_keys, sink, key_file, passphrase):
    key = (sshd_keys.client.parent / key_file).read_text()
    made = runner(private_key=key, passphrase=passphrase)

    assert made.run("echo hi", timeout=10, sink=sink).exit_code == 0
    assert sink.stdout == b"hi\n"


def test_wrong_client_key_is_auth_failed(ssh_provider, tmp_path):
    stranger = keygen(tmp_path / "stranger").read_text()

    error = connect_error(ssh_provider(private_key=stranger))

    assert error.code == "auth_failed"


def test_encrypted_key_without_its_passphrase_is_auth_failed(ssh_provider, sshd_keys):
    key = (sshd_keys.client.parent / "client_ed25519_pass").read_text()

    missing = connect_error(ssh_provider(private_key=key))
    wrong = connect_error(ssh_provider(private_key=key, passphrase="wrong"))

    assert missing.code == "auth_failed" and "passphrase" in missing.message
    assert wrong.code == "auth_failed" and "passphrase" in wrong.message


def test_garbage_key_is_auth_failed(ssh_provider):
    error = connect_error(ssh_provider(private_key="not a key"))

    assert error.code == "auth_failed"


def test_password_the_server_does_not_accept_is_auth_failed(ssh_provider):
    # The test sshd has password logins off (without PAM it would check root's real password), so
    # this proves the mapping, not a successful password login.
    error = connect_error(ssh_provider(auth_method=AuthMethod.PASSWORD, password="secret", private_key=""))

    assert error.code == "auth_failed"


# Host keys


def test_no_pinned_key_is_host_key_unknown(ssh_provider):
    error = connect_error(ssh_provider(host_key=""))

    assert error.code == "host_key_unknown"
    assert "fetch and pin host key" in error.message


def test_a_different_key_is_host_key_mismatch(ssh_provider, sshd, tmp_path):
    other = keygen(tmp_path / "other_host")

    error = connect_error(ssh_provider(host_key=public_key(other)))

    assert error.code == "host_key_mismatch"
    assert ssh_keygen_fingerprint(f"{other}.pub") in error.message
    assert ssh_keygen_fingerprint(f"{sshd.keys.host}.pub") in error.message


def test_a_key_of_another_type_is_host_key_mismatch(ssh_provider, sshd, tmp_path):
    other = keygen(tmp_path / "other_host", "ecdsa")

    error = connect_error(ssh_provider(host_key=public_key(other)))

    assert error.code == "host_key_mismatch"
    assert ssh_keygen_fingerprint(f"{sshd.keys.host}.pub") in error.message


def test_an_unreadable_pinned_key_is_host_key_unknown(ssh_provider):
    error = connect_error(ssh_provider(host_key="ssh-ed25519 not-base64!"))

    assert error.code == "host_key_unknown"


def test_host_key_fetch_returns_the_servers_key(ssh_provider, sshd):
    key, fingerprint = host_key_fetch(ssh_provider(host_key=""))

    assert key == sshd.host_key
    assert fingerprint == ssh_keygen_fingerprint(f"{sshd.keys.host}.pub")


def test_a_fetched_key_lets_the_runner_in(ssh_provider, sink):
    provider = ssh_provider(host_key="")
    provider.host_key, _ = host_key_fetch(provider)
    provider.save()

    made = runner_for(provider)
    try:
        assert made.run("true", timeout=10, sink=sink).exit_code == 0
    finally:
        made.close()


@pytest.mark.parametrize(("key_type", "pem"), [("ed25519", False), ("ecdsa", False), ("rsa", True)])
def test_fingerprints_match_ssh_keygen(openssh, tmp_path, key_type, pem):
    path = keygen(tmp_path / key_type, key_type, pem=pem)

    assert host_key_fingerprint(public_key(path)) == ssh_keygen_fingerprint(f"{path}.pub")


def test_the_client_trusts_nothing_but_the_pin(monkeypatch, runner):
    # Neither known_hosts nor AutoAddPolicy: only RejectPolicy may be installed.
    policies = []
    monkeypatch.setattr(paramiko.SSHClient, "load_system_host_keys", lambda *a, **k: pytest.fail("loaded"))
    real = paramiko.SSHClient.set_missing_host_key_policy
    monkeypatch.setattr(
        paramiko.SSHClient,
        "set_missing_host_key_policy",
        lambda self, policy: policies.append(policy) or real(self, policy),
    )

    runner().connect()

    assert [type(p) for p in policies] == [paramiko.RejectPolicy]


# Network failures


def test_closed_port_is_refused(ssh_provider):
    error = connect_error(ssh_provider(port=free_port()))

    assert error.code == "refused"


def test_a_server_that_never_answers_is_timeout(ssh_provider):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshake; nobody ever speaks
        provider = ssh_provider(port=silent.getsockname()[1], connect_timeout=1)

        error = connect_error(provider)
        with pytest.raises(RunnerError) as fetch:
            host_key_fetch(provider)

    assert error.code == "timeout"
    assert fetch.value.code == "timeout"


def test_a_name_that_does_not_resolve_is_unreachable(ssh_provider):
    error = connect_error(ssh_provider(address="no-such-host.invalid"))

    assert error.code == "unreachable"


def test_host_key_fetch_on_a_closed_port_is_refused(ssh_provider):
    with pytest.raises(RunnerError) as info:
        host_key_fetch(ssh_provider(port=free_port()))

    assert info.value.code == "refused"


# Connection test


def test_connection_test_succeeds(ssh_provider):
    ok, latency_ms, message = connection_test(ssh_provider())

    assert ok and message == ""
    assert latency_ms > 0


def test_connection_test_reports_the_code(ssh_provider, tmp_path):
    ok, latency_ms, message = connection_test(ssh_provider(private_key=keygen(tmp_path / "k").read_text()))

    assert not ok and latency_ms is None
    assert message.startswith("auth_failed: ")


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


# The pid marker


@pytest.mark.parametrize("split", [1, 3, 7, 1000])
def test_the_marker_is_found_after_startup_noise_and_taken_out(split):
    from actions.runners.ssh.channel import Execution

    sink = RecordingSink()
    execution = Execution.__new__(Execution)
    execution.sink, execution.pid, execution._stderr_head = sink, None, b""
    stream = b"bash: warning: from .bashrc\n__mitigate_pid=4242\nreal\n__mitigate_pid=1\n"
    for i in range(0, len(stream), split):
        execution._stderr(stream[i : i + split])
    execution.flush()

    assert execution.pid == 4242
    assert sink.stderr == b"bash: warning: from .bashrc\nreal\n__mitigate_pid=1\n"


def test_stderr_without_a_marker_is_kept():
    from actions.runners.ssh.channel import Execution

    sink = RecordingSink()
    execution = Execution.__new__(Execution)
    execution.sink, execution.pid, execution._stderr_head = sink, None, b""
    execution._stderr(b"sudo: a password is required\n")
    execution.flush()

    assert execution.pid is None
    assert sink.stderr == b"sudo: a password is required\n"


def test_host_key_fetch_refuses_a_local_provider(local_provider):
    with pytest.raises(RunnerError) as info:
        host_key_fetch(local_provider)

    assert info.value.code == "error"


@pytest.mark.parametrize(
    ("line", "group"),
    [
        (b"__mitigate_pid=4242:987654\n", {"pgid": 4242, "start": 987654}),
        # A host without /proc: the start time is unknown, the pid still serves a cancel.
        (b"__mitigate_pid=4242:\n", {"pgid": 4242, "start": None}),
    ],
)
def test_the_marker_carries_the_start_time(line, group):
    from actions.runners.ssh.channel import Execution

    sink = RecordingSink()
    execution = Execution.__new__(Execution)
    execution.sink, execution.pid, execution._stderr_head = sink, None, b""
    execution._stderr(line + b"real\n")

    assert (execution.pid, sink.groups, sink.stderr) == (4242, [group], b"real\n")


def test_a_marker_with_a_bad_start_time_is_output():
    from actions.runners.ssh.channel import Execution

    sink = RecordingSink()
    execution = Execution.__new__(Execution)
    execution.sink, execution.pid, execution._stderr_head = sink, None, b""
    execution._stderr(b"__mitigate_pid=4242:x\n")
    execution.flush()

    assert (execution.pid, sink.groups, sink.stderr) == (None, [], b"__mitigate_pid=4242:x\n")
