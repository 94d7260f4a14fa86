"""Reaching the host: the TCP connection, what a failed handshake means, private keys, and the
host key fetched for trust on first use."""

import errno
import io
import socket
import time

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from actions.choices import ProviderKind
from actions.runners.base import RunnerError
from actions.runners.hostkeys import fingerprint_of, host_key_text

_UNREACHABLE_ERRNOS = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN, errno.ENETDOWN}


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
