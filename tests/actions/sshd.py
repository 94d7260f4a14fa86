"""A real OpenSSH sshd for tests and benchmarks: started as the current user on a free 127.0.0.1
port, with its own host key and authorized client keys in a directory of its own.

    keys = SSHKeys.generate(tmp_dir)
    server = start_sshd(tmp_dir / "one", keys)
    ...
    server.stop()

Works as root (the privilege separation directory is created if missing, root may log in with a
key) and as an ordinary user (sshd then only lets that user in). Password logins stay off: without
PAM, sshd would check the account's real password.
"""

import os
import pwd
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.programs import find_program, require_programs

PROGRAMS = ("sshd", "ssh-keygen")
INSTALL = "apt-get install openssh-server"
PRIVSEP_DIR = Path("/run/sshd")
START_SECONDS = 15


def sshd_available() -> bool:
    return all(find_program(name) for name in PROGRAMS)


def require_openssh() -> None:
    """Skip the calling test when sshd or ssh-keygen is missing (on CI: fail it)."""
    require_programs(*PROGRAMS, install=INSTALL)


def program(name: str) -> str:
    path = find_program(name)
    if path is None:
        raise RuntimeError(f"{name} is not installed ({INSTALL})")
    return path


def keygen(path: Path, key_type: str = "ed25519", *, passphrase: str = "", pem: bool = False) -> Path:
    """A new key pair at path and path.pub; returns path."""
    command = [
        program("ssh-keygen"),
        "-q",
        "-t",
        key_type,
        "-N",
        passphrase,
        "-C",
        path.name,
        "-f",
        str(path),
    ]
    if key_type == "rsa":
        command += ["-b", "2048"]
    if pem:
        command += ["-m", "PEM"]
    path.unlink(missing_ok=True)
    subprocess.run(command, check=True, capture_output=True)
    return path


def public_key(path: Path) -> str:
    """ "<type> <base64>" of a key pair (comment dropped), as Provider.host_key stores it."""
    key_type, blob = Path(f"{path}.pub").read_text().split()[:2]
    return f"{key_type} {blob}"


@dataclass
class SSHKeys:
    """A host key and the client keys sshd accepts. `client` is the default one."""

    host: Path
    client: Path
    authorized: list[Path] = field(default_factory=list)

    @classmethod
    def generate(cls, directory: Path) -> "SSHKeys":
        directory.mkdir(parents=True, exist_ok=True)
        client = keygen(directory / "client_ed25519")
        return cls(host=keygen(directory / "host_ed25519"), client=client, authorized=[client])

    def authorize(self, path: Path) -> Path:
        self.authorized.append(path)
        return path


@dataclass
class SSHServer:
    directory: Path
    port: int
    keys: SSHKeys
    process: subprocess.Popen
    user: str
    address: str = "127.0.0.1"

    @property
    def host_key(self) -> str:
        return public_key(self.keys.host)

    @property
    def log_path(self) -> Path:
        return self.directory / "sshd.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def connections(self) -> int:
        """TCP connections sshd has accepted so far."""
        return self.log().count("Connection from ")

    def provider_fields(self, **overrides) -> dict:
        """Keyword arguments for a Provider that logs in with the default client key."""
        fields = {
            "address": self.address,
            "port": self.port,
            "username": self.user,
            "private_key": self.keys.client.read_text(),
            "host_key": self.host_key,
            "connect_timeout": 20,  # generous: CI machines can be very busy
        }
        fields.update(overrides)
        return fields

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_sshd(
    directory: Path, keys: SSHKeys, *, env: dict[str, str] | None = None, attempts: int = 3
) -> SSHServer:
    """Start sshd in the foreground (-D) logging to directory/sshd.log; return once it answers.

    Sessions get HOME=directory/home (empty), so the account's own shell startup files (on a
    developer machine: pyenv, cargo...) neither slow commands down nor print into their stderr;
    `env` sets more variables (values without spaces)."""
    directory.mkdir(parents=True, exist_ok=True)
    home = directory / "home"
    home.mkdir(exist_ok=True)
    session_env = {"HOME": str(home), **(env or {})}
    if os.geteuid() == 0 and not PRIVSEP_DIR.exists():
        PRIVSEP_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
    authorized = directory / "authorized_keys"
    authorized.write_text("".join(Path(f"{key}.pub").read_text() for key in keys.authorized))
    authorized.chmod(0o600)
    user = _user()
    last_error = ""
    for _ in range(attempts):
        port = free_port()
        config = directory / "sshd_config"
        config.write_text(
            f"ListenAddress 127.0.0.1:{port}\n"
            f"HostKey {keys.host}\n"
            f"PidFile {directory / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {authorized}\n"
            "UsePAM no\n"
            "StrictModes no\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "PermitRootLogin prohibit-password\n"
            "MaxStartups 200\n"
            "MaxSessions 20\n"
            "LogLevel VERBOSE\n"
            # One line: sshd takes the first SetEnv only.
            f"SetEnv {' '.join(f'{name}={value}' for name, value in session_env.items())}\n"
        )
        log = (directory / "sshd.log").open("ab")
        process = subprocess.Popen(
            [program("sshd"), "-D", "-e", "-f", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        server = SSHServer(directory=directory, port=port, keys=keys, process=process, user=user)
        if _wait_until_answering(server):
            return server
        server.stop()
        last_error = server.log()[-2000:]
    raise RuntimeError(f"sshd did not start in {directory}:\n{last_error}")


def _wait_until_answering(server: SSHServer) -> bool:
    """True once the port sends an SSH banner; False if sshd died (port taken, bad config)."""
    until = time.monotonic() + START_SECONDS
    while time.monotonic() < until:
        if server.process.poll() is not None:
            return False
        try:
            with socket.create_connection((server.address, server.port), timeout=1) as sock:
                if sock.recv(64).startswith(b"SSH-"):
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def _user() -> str:
    return pwd.getpwuid(os.geteuid()).pw_name
