"""The SSH runner reaching a real OpenSSH sshd on 127.0.0.1: credentials, pinned host keys,
network failures and the connection test."""

import socket
import subprocess

import paramiko
import pytest

from actions.choices import AuthMethod
from actions.runners import connection_test, host_key_fetch, host_key_fingerprint, runner_for
from actions.runners.base import RunnerError
from tests.actions.conftest import PASSPHRASE
from tests.actions.sshd import free_port, keygen, program, public_key

pytestmark = pytest.mark.integration


def ssh_keygen_fingerprint(public_key_path) -> str:
    out = subprocess.run(
        [program("ssh-keygen"), "-lf", str(public_key_path)], check=True, capture_output=True, text=True
    )
    return out.stdout.split()[1]


def connect_error(provider) -> RunnerError:
    made = runner_for(provider)
    try:
        with pytest.raises(RunnerError) as info:
            made.connect()
    finally:
        made.close()
    return info.value


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


def test_host_key_fetch_refuses_a_local_provider(local_provider):
    with pytest.raises(RunnerError) as info:
        host_key_fetch(local_provider)

    assert info.value.code == "error"
