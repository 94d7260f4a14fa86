"""Pinned SSH host keys: parse the stored `type base64` text and fingerprint it like OpenSSH.

Fetching a key from a host lives in actions.runners.ssh (`host_key_fetch`): it needs the network.
"""

import base64
import binascii
import hashlib

import paramiko


def parse_host_key(host_key: str) -> paramiko.PKey:
    """The key in "<type> <base64>" (a trailing comment, or a leading host name as in a
    known_hosts line, is tolerated). Raises ValueError saying what is wrong."""
    fields = host_key.split()
    for i, field in enumerate(fields[:-1]):
        if _is_key_type(field):
            key_type, blob_text = field, fields[i + 1]
            break
    else:
        raise ValueError('Expected "<type> <base64>", for example "ssh-ed25519 AAAAC3Nza...".')
    try:
        blob = base64.b64decode(blob_text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"The {key_type} key is not valid base64.") from exc
    try:
        key = paramiko.PKey.from_type_string(key_type, blob)
    except (paramiko.SSHException, ValueError, TypeError, IndexError) as exc:
        raise ValueError(f"The {key_type} key data is not a valid {key_type} key.") from exc
    return key


def host_key_fingerprint(host_key: str) -> str:
    """The fingerprint as `ssh-keygen -lf` prints it: "SHA256:" and base64 without padding."""
    return fingerprint_of(parse_host_key(host_key))


def fingerprint_of(key: paramiko.PKey) -> str:
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def host_key_text(key: paramiko.PKey) -> str:
    """The form stored in Provider.host_key."""
    return f"{key.get_name()} {key.get_base64()}"


def host_key_entry(address: str, port: int) -> str:
    """The name OpenSSH and paramiko file a host's key under."""
    return address if port == 22 else f"[{address}]:{port}"


def _is_key_type(field: str) -> bool:
    return any(field in cls.identifiers() for cls in paramiko.key_classes)
