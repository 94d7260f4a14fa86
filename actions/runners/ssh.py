"""Commands on a host over SSH (paramiko), on one connection per runner.

The host must prove it holds the pinned key; nothing else is trusted (no known_hosts, no agent,
no keys from ~/.ssh). Each command runs as

    echo "__mitigate_pid=$$:<start>" >&2; exec timeout -s KILL <t> sh -c '<command>'

(inside `exec sudo -n sh -c '...'` when the provider uses sudo), so the command always runs under
sh, as it does on the local runner. GNU timeout leads its own process group and kills the whole
group when the time is up; the pid printed first (and taken off stderr) lets a cancel, or our own
deadline when the host's `timeout` did not fire, kill that group from a second channel on the same
connection. The pid and its start time (clock ticks since boot, from /proc) go to the sink too: if
the worker dies, abandoning the run kills the group over a new connection, but only while its leader
is still the process that printed them. The remote user's login shell must be POSIX (sh, bash,
dash, zsh); the host needs GNU `timeout`.
"""

import errno
import io
import logging
import select
import shlex
import socket
import time

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from actions.choices import AuthMethod, ProviderKind
from actions.runners.base import CommandResult, OutputSink, RunnerError
from actions.runners.hostkeys import fingerprint_of, host_key_entry, host_key_text, parse_host_key

logger = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15
POLL_SECONDS = 0.2
# Past the remote `timeout`, how long we wait before killing the command ourselves.
DEADLINE_GRACE_SECONDS = 5
# How long to wait for trailing output after the command exited or was killed, and for the kill.
SETTLE_SECONDS = 3
PID_MARKER = b"__mitigate_pid="
MARKER_SEARCH_BYTES = 64 * 1024  # stderr held back while looking for the marker, at most
TIMEOUT_KILLED = 137  # 128 + SIGKILL, what a shell reports for `timeout -s KILL`

_UNREACHABLE_ERRNOS = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN, errno.ENETDOWN}


# Fields of /proc/<pid>/stat after "<pid> (<comm>) ": $1 is the state, ${20} the start time.
STAT_FIELDS = "$(sed 's/.*) //' /proc/$$/stat 2>/dev/null)"


def wrap_command(command: str, timeout: int, *, use_sudo: bool) -> str:
    """The command line sent to the host (see the module docstring)."""
    seconds = max(1, int(timeout))
    start = "$(set -- " + STAT_FIELDS + '; echo "${20:-}")'
    inner = (
        f'echo "{PID_MARKER.decode()}$$:{start}" >&2; '
        f"exec timeout -s KILL {seconds} sh -c {shlex.quote(command)}"
    )
    if use_sudo:
        # The pid must be the one inside sudo: sudo may start the command in its own session.
        return f"exec sudo -n sh -c {shlex.quote(inner)}"
    return inner


def kill_command(pid: int, *, use_sudo: bool) -> str:
    # `-s KILL --` is the spelling dash, bash and procps kill all accept for a process group.
    command = f"kill -s KILL -- -{int(pid)}"
    return f"sudo -n {command}" if use_sudo else command


def group_kill_command(pid: int, start: int, *, use_sudo: bool) -> str:
    """Kill group `pid` only while its leader is the process that started at `start`; prints
    "killed" or "exited"."""
    pid, start = int(pid), int(start)
    stat = STAT_FIELDS.replace("$$", str(pid))
    return (
        f'set -- {stat}; if [ "$1" != Z ] && [ "${{20:-}}" = {start} ]; '
        f"then {kill_command(pid, use_sudo=use_sudo)} && echo killed; else echo exited; fi"
    )


def open_socket(address: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection to the host, or the RunnerError saying why not."""
    where = f"{address}:{port}"
    try:
        return socket.create_connection((address, port), timeout=timeout)
    except socket.gaierror as exc:
        raise RunnerError("unreachable", f"Cannot resolve {address}: {exc.strerror}.") from exc
    except ConnectionRefusedError as exc:
        raise RunnerError("refused", f"{where} refused the connection (is sshd listening?).") from exc
    except TimeoutError as exc:
        raise RunnerError("timeout", f"No answer from {where} within {timeout:g} s.") from exc
    except OSError as exc:
        if exc.errno in _UNREACHABLE_ERRNOS:
            raise RunnerError("unreachable", f"{where} is unreachable: {exc.strerror}.") from exc
        raise RunnerError("unreachable", f"Cannot connect to {where}: {exc}.") from exc


def handshake_error(exc: BaseException, *, where: str, timeout: float, elapsed: float) -> RunnerError:
    """Map what paramiko raised while negotiating or authenticating to a RunnerError."""
    if isinstance(exc, RunnerError):
        return exc
    if isinstance(exc, paramiko.BadHostKeyException):
        return RunnerError(
            "host_key_mismatch",
            f"The host key of {where} does not match the pinned one: expected "
            f"{fingerprint_of(exc.expected_key)} ({exc.expected_key.get_name()}), the host offered "
            f"{fingerprint_of(exc.key)} ({exc.key.get_name()}). If the host was rebuilt, fetch and "
            "pin its key again; otherwise someone may be intercepting the connection.",
        )
    if isinstance(exc, paramiko.PasswordRequiredException):
        return RunnerError("auth_failed", "The private key is encrypted: set its passphrase.")
    if isinstance(exc, paramiko.BadAuthenticationType):
        allowed = ", ".join(exc.allowed_types) or "none"
        return RunnerError("auth_failed", f"{where} does not accept this method (it allows: {allowed}).")
    if isinstance(exc, paramiko.AuthenticationException):
        return RunnerError("auth_failed", f"{where} rejected the credentials: {exc}")
    if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
        return RunnerError("timeout", f"{where} accepted the connection but did not answer in {timeout:g} s.")
    if isinstance(exc, paramiko.SSHException) and elapsed >= timeout:
        return RunnerError("timeout", f"The SSH handshake with {where} did not finish in {timeout:g} s.")
    if isinstance(exc, paramiko.SSHException) and "banner" in str(exc):
        return RunnerError("error", f"{where} does not speak SSH ({exc}).")
    if isinstance(exc, EOFError | ConnectionResetError):
        return RunnerError("error", f"{where} closed the connection during the handshake.")
    if isinstance(exc, OSError):
        return RunnerError("unreachable", f"Connection to {where} failed: {exc}.")
    return RunnerError("error", f"SSH to {where} failed: {exc.__class__.__name__}: {exc}")


def load_private_key(text: str, passphrase: str = "") -> paramiko.PKey:
    """An Ed25519, ECDSA or RSA key in OpenSSH, PEM or PKCS#8 form, decrypted with the passphrase.
    Raises RunnerError(auth_failed) saying what is wrong."""
    data = text.strip().encode() + b"\n"
    password = passphrase.encode() if passphrase else None
    try:
        loaded = _load_any(data, password)
    except TypeError as exc:
        if password is None:
            raise RunnerError("auth_failed", "The private key is encrypted: set its passphrase.") from exc
        # A passphrase was stored for a key that has none.
        loaded = _load_any(data, None)
    except ValueError as exc:
        hint = "wrong passphrase, or" if password else "it is"
        raise RunnerError(
            "auth_failed", f"The private key cannot be read ({hint} not an OpenSSH or PEM key: {exc})."
        ) from exc
    except Exception as exc:  # cryptography raises its own UnsupportedAlgorithm and friends
        raise RunnerError("auth_failed", f"The private key cannot be read: {exc}.") from exc
    if isinstance(loaded, rsa.RSAPrivateKey):
        key_class = paramiko.RSAKey
    elif isinstance(loaded, ed25519.Ed25519PrivateKey):
        key_class = paramiko.Ed25519Key
    elif isinstance(loaded, ec.EllipticCurvePrivateKey):
        key_class = paramiko.ECDSAKey
    else:
        raise RunnerError("auth_failed", "Only Ed25519, ECDSA and RSA private keys are supported.")
    # paramiko reads OpenSSH and traditional PEM but not PKCS#8: hand it one form it always reads.
    openssh = loaded.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    return key_class.from_private_key(io.StringIO(openssh.decode()))


def _load_any(data: bytes, password: bytes | None):
    try:
        return serialization.load_ssh_private_key(data, password)
    except ValueError:
        return serialization.load_pem_private_key(data, password)


def host_key_fetch(provider) -> tuple[str, str]:
    """The key the host presents now, as ("<type> <base64>", "SHA256:..."), from a key exchange
    alone (no authentication). Trust on first use: show the fingerprint, store it on confirmation."""
    if provider.kind != ProviderKind.SSH or not provider.address:
        raise RunnerError("error", f"{provider.name} is not an SSH host with an address: it has no host key.")
    where = f"{provider.address}:{provider.port}"
    timeout = provider.connect_timeout
    started = time.monotonic()
    sock = open_socket(provider.address, provider.port, timeout)
    transport = paramiko.Transport(sock)
    transport.banner_timeout = timeout
    try:
        transport.start_client(timeout=timeout)
        key = transport.get_remote_server_key()
    except Exception as exc:
        raise handshake_error(exc, where=where, timeout=timeout, elapsed=time.monotonic() - started) from exc
    finally:
        transport.close()
    return host_key_text(key), fingerprint_of(key)


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
        execution = _Execution(channel, sink)
        try:
            return self._follow(execution, timeout, started)
        except BaseException:
            # The sink failed or we were interrupted: the command must not outlive us.
            execution.sink = _DISCARD
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

    def _follow(self, execution: "_Execution", timeout: int, started: float) -> CommandResult:
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

    def _kill(self, execution: "_Execution") -> None:
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


class _Discard:
    def write(self, stream: str, data: bytes) -> None:
        pass

    def started(self, group: dict) -> None:
        pass

    def cancelled(self) -> bool:
        return True


_DISCARD = _Discard()


class _Execution:
    """One command's channel: reads stdout and stderr as they arrive into the sink, and takes the
    pid marker off the front of stderr."""

    def __init__(self, channel: paramiko.Channel, sink: OutputSink):
        self.channel = channel
        self.sink = sink
        self.pid: int | None = None
        self._stderr_head: bytes | None = b""  # None once the marker line is dealt with
        # poll, not select: a busy worker may hold file descriptors past select's limit of 1024.
        self._poller = select.poll()
        self._poller.register(channel.fileno(), select.POLLIN)

    def wait(self, seconds: float) -> None:
        """Until something happens on the channel, or `seconds` pass."""
        if self.channel.eof_received or self.channel.closed:
            # The data pipe stays readable after EOF; what is left to wait for is the exit status.
            self.channel.status_event.wait(seconds)
        else:
            self._poller.poll(seconds * 1000)

    def drain(self) -> bool:
        """Pass on what has arrived; True if anything had."""
        channel = self.channel
        got = False
        while channel.recv_ready():
            self.sink.write("stdout", channel.recv(65536))
            got = True
        while channel.recv_stderr_ready():
            self._stderr(channel.recv_stderr(65536))
            got = True
        return got

    def finished(self) -> bool:
        channel = self.channel
        done = channel.closed or (channel.eof_received and channel.exit_status_ready())
        return done and not channel.recv_ready() and not channel.recv_stderr_ready()

    def flush(self) -> None:
        """At the end: stderr that never completed its first line is output, not a marker."""
        if self._stderr_head:
            self.sink.write("stderr", self._stderr_head)
        self._stderr_head = None

    def _stderr(self, data: bytes) -> None:
        if self._stderr_head is None:
            self.sink.write("stderr", data)
            return
        # Lines before the marker come from the login shell's startup files (the command has not
        # started yet): they are passed on; the marker line is not.
        head = self._stderr_head + data
        start = 0
        while (end := head.find(b"\n", start)) != -1:
            line = head[start:end]
            pid, _, ticks = line[len(PID_MARKER) :].partition(b":")
            if line.startswith(PID_MARKER) and pid.isdigit() and (ticks.isdigit() or not ticks):
                self.pid = int(pid)
                self._stderr_head = None
                self.sink.started({"pgid": self.pid, "start": int(ticks) if ticks else None})
                rest = head[:start] + head[end + 1 :]
                if rest:
                    self.sink.write("stderr", rest)
                return
            start = end + 1
        self._stderr_head = head
        if len(head) > MARKER_SEARCH_BYTES:
            self.flush()
