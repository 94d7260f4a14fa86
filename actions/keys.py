"""Reading the private keys providers store (OpenSSH or PEM; Ed25519, ECDSA or RSA)."""

import io

import paramiko

KEY_CLASSES = (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey)


def private_key_load(text: str, passphrase: str = "") -> paramiko.PKey:
    """The key object, or ValueError saying why not (never echoing the key)."""
    last: Exception | None = None
    for key_class in KEY_CLASSES:
        try:
            return key_class.from_private_key(io.StringIO(text), password=passphrase or None)
        except paramiko.PasswordRequiredException as exc:
            raise ValueError("The private key is encrypted: give its passphrase.") from exc
        except (paramiko.SSHException, ValueError, IndexError, TypeError) as exc:
            last = exc
    raise ValueError("Not a readable Ed25519, ECDSA or RSA private key, or a wrong passphrase.") from last


def private_key_problem(text: str, passphrase: str = "") -> str:
    try:
        private_key_load(text, passphrase)
    except ValueError as exc:
        return str(exc)
    return ""
