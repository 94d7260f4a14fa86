"""SSHRunner: one connection per runner, each command on a channel of its own, killed from a
second channel when cancelled or overdue."""

import logging
import time

import paramiko

from actions.choices import AuthMethod
from actions.runners.base import CommandResult, OutputSink, RunnerError
from actions.runners.hostkeys import host_key_entry, parse_host_key
from actions.runners.ssh.channel import DISCARD, Execution
from actions.runners.ssh.commands import group_kill_command, kill_command, wrap_command
from actions.runners.ssh.connection import handshake_error, load_private_key, open_socket

logger = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15
POLL_SECONDS = 0.2
# Past the remote `timeout`, how long we wait before killing the command ourselves.
DEADLINE_GRACE_SECONDS = 5
# How long to wait for trailing output after the command exited or was killed, and for the kill.
SETTLE_SECONDS = 3
TIMEOUT_KILLED = 137  # 128 + SIGKILL, what a shell reports for `timeout -s KILL`


class SSHRunner:
    """Runner for an SSH provider. One thread at a time; connect() once, run() many times."""

    def __init__(self, provider):
        self.provider = provider
        self._client: paramiko.SSHClient | None = None

    @property
    def where(self) -> str:
        return f"{self.provider.address}:{self.provider.port}"

    def connect(self) -> None:
        if self._transport_alive():
            return
        self.close()
        provider = self.provider
        if not provider.address:
            raise RunnerError("error", f"{provider.name} has no address.")
        if not provider.host_key.strip():
            raise RunnerError(
                "host_key_unknown",
                f"No host key is pinned for {provider.name} ({self.where}): pin it first with "
                "'fetch and pin host key'.",
            )
        try:
            pinned = parse_host_key(provider.host_key)
        except ValueError as exc:
            raise RunnerError(
                "host_key_unknown",
                f"The pinned host key of {provider.name} is unusable ({exc}); pin it again with "
                "'fetch and pin host key'.",
            ) from exc
        credentials = self._credentials()

        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        client.get_host_keys().add(host_key_entry(provider.address, provider.port), pinned.get_name(), pinned)
        timeout = provider.connect_timeout
        started = time.monotonic()
        sock = open_socket(provider.address, provider.port, timeout)
        try:
            client.connect(
                provider.address,
                port=provider.port,
                username=provider.username,
                sock=sock,
                timeout=timeout,
                banner_timeout=timeout,
                auth_timeout=timeout,
                channel_timeout=timeout,
                allow_agent=False,
                look_for_keys=False,
                **credentials,
            )
        except Exception as exc:
            client.close()
            sock.close()
            raise handshake_error(
                exc, where=self.where, timeout=timeout, elapsed=time.monotonic() - started
            ) from exc
        client.get_transport().set_keepalive(KEEPALIVE_SECONDS)
        self._client = client

    def run(self, command: str, *, timeout: int, sink: OutputSink) -> CommandResult:
        timeout = max(1, int(timeout))
        self.connect()
        transport = self._client.get_transport()
        # Before the exec request: the host's `timeout` cannot start earlier than this.
        started = time.monotonic()
        try:
            channel = transport.open_session(timeout=self.provider.connect_timeout)
            channel.exec_command(wrap_command(command, timeout, use_sudo=self.provider.use_sudo))
            channel.shutdown_write()  # the command's stdin is empty, so nothing waits on it
        except (paramiko.SSHException, OSError, EOFError) as exc:
            if transport.is_active():
                raise RunnerError("error", f"{self.where} refused to start the command: {exc}") from exc
            self.close()
            raise RunnerError("unreachable", f"Lost the connection to {self.where}: {exc}") from exc
        execution = Execution(channel, sink)
        try:
            return self._follow(execution, timeout, started)
        except BaseException:
            # The sink failed or we were interrupted: the command must not outlive us.
            execution.sink = DISCARD
            self._kill(execution)
            raise
        finally:
            channel.close()

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def kill_group(self, group: dict) -> str:
        pgid = int(group["pgid"])
        if group.get("start") is None:
            # No start time to check the pid against (the host has no /proc): its `timeout` ends it.
            return f"process group {pgid} on {self.where} not killed: its start time is unknown"
        self.connect()
        command = group_kill_command(pgid, group["start"], use_sudo=self.provider.use_sudo)
        try:
            channel = self._client.get_transport().open_session(timeout=self.provider.connect_timeout)
            channel.exec_command(command)
            channel.shutdown_write()
            channel.settimeout(self.provider.connect_timeout)
            said = b""
            while chunk := channel.recv(1024):
                said += chunk
            status = channel.recv_exit_status()
            channel.close()
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise RunnerError("error", f"Could not kill process group {pgid} on {self.where}: {exc}") from exc
        if said.strip().endswith(b"killed") and status == 0:
            return f"killed process group {pgid} on {self.where}"
        if said.strip().endswith(b"exited"):
            return f"process group {pgid} on {self.where} had already exited"
        return f"process group {pgid} on {self.where} not killed: the kill exited {status}"

    def _transport_alive(self) -> bool:
        transport = self._client.get_transport() if self._client else None
        return transport is not None and transport.is_active()

    def _credentials(self) -> dict:
        provider = self.provider
        if not provider.username:
            raise RunnerError("auth_failed", f"{provider.name} has no user name.")
        if provider.auth_method == AuthMethod.PASSWORD:
            if not provider.password:
                raise RunnerError("auth_failed", f"{provider.name} uses a password but none is set.")
            return {"password": provider.password}
        if not provider.private_key.strip():
            raise RunnerError("auth_failed", f"{provider.name} uses a private key but none is set.")
        return {"pkey": load_private_key(provider.private_key, provider.passphrase)}

    def _follow(self, execution: "Execution", timeout: int, started: float) -> CommandResult:
        deadline = started + timeout + DEADLINE_GRACE_SECONDS
        quiet_since = None  # once it exited: when output last arrived
        while True:
            execution.wait(POLL_SECONDS)
            got_output = execution.drain()
            now = time.monotonic()
            if execution.channel.exit_status_ready():
                if execution.finished():
                    break
                # Exited, but stdout is still open: the rest is on its way, or a child left in the
                # background holds it. Take output until it goes quiet, then stop listening (the
                # child keeps running, as it would under plain ssh).
                if quiet_since is None or got_output:
                    quiet_since = now
                if now - quiet_since >= SETTLE_SECONDS or now >= deadline or execution.sink.cancelled():
                    break
                continue
            if execution.sink.cancelled():
                self._kill(execution)
                return CommandResult(exit_code=None, cancelled=True)
            if now >= deadline:
                logger.warning("%s: the host's timeout did not stop the command; killing it", self.where)
                self._kill(execution)
                return CommandResult(exit_code=None, timed_out=True)
        execution.flush()

        status = execution.channel.exit_status
        if status == -1 and not self._transport_alive():
            self.close()
            raise RunnerError("unreachable", f"Lost the connection to {self.where} while the command ran.")
        # -1: killed by a signal (sshd sent exit-signal, which paramiko does not keep).
        killed = status in (-1, TIMEOUT_KILLED)
        if killed and time.monotonic() - started >= timeout:
            return CommandResult(exit_code=None, timed_out=True)
        return CommandResult(exit_code=None if status == -1 else status)

    def _kill(self, execution: "Execution") -> None:
        """Kill the command's process group from a second channel, keep what it printed."""
        settle_until = time.monotonic() + SETTLE_SECONDS
        while execution.pid is None and not execution.channel.closed and time.monotonic() < settle_until:
            execution.wait(POLL_SECONDS)
            execution.drain()
        if execution.pid is not None and self._transport_alive():
            try:
                killer = self._client.get_transport().open_session(timeout=self.provider.connect_timeout)
                killer.exec_command(kill_command(execution.pid, use_sudo=self.provider.use_sudo))
                killer.shutdown_write()
                killer.status_event.wait(SETTLE_SECONDS)
                if killer.exit_status not in (0, -1):
                    logger.warning(
                        "%s: kill of group %s exited %s", self.where, execution.pid, killer.exit_status
                    )
                killer.close()
            except (paramiko.SSHException, OSError, EOFError) as exc:
                logger.warning("%s: could not kill group %s: %s", self.where, execution.pid, exc)
        elif execution.pid is None:
            logger.warning("%s: the command never reported its pid; it may still be running", self.where)
        while not execution.finished() and time.monotonic() < settle_until + SETTLE_SECONDS:
            execution.wait(POLL_SECONDS)
            execution.drain()
        execution.flush()
