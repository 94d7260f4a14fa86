"""Helpers for the actions REST API tests: URLs, keys to pin, and runs driven into a status through
the services, as production gets them there."""

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from actions.models import Action, ActionRun
from actions.services import action_run_request
from common.actor import Actor, Source
from tests.incidents.api_support import client_for, token_client

__all__ = ["client_for", "token_client"]


def api_url(resource: str, obj=None, action: str = "") -> str:
    """api_url("providers"), api_url("actions", action, "run"), ..."""
    url = f"/api/v1/{resource}/"
    if obj is not None:
        url += f"{getattr(obj, 'pk', obj)}/"
    if action:
        url += f"{action}/"
    return url


def private_key_text() -> str:
    """A fresh Ed25519 private key in OpenSSH form, as an admin pastes it."""
    key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    ).decode()


def public_key_text() -> str:
    """A fresh host key as "ssh-ed25519 AAAA...", the form a host presents and providers store."""
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def request_run(action: Action, user, **kwargs) -> ActionRun:
    """A run requested through the service by `user` (through the admin)."""
    return action_run_request(action=action, by=Actor(user=user, source=Source.ADMIN), **kwargs)


def action_body(local, **overrides) -> dict:
    """An action create body: a parameter and two steps on the provider `local`."""
    return {
        "name": "Restart nginx",
        "description": "Restarts nginx and checks it answers.",
        "category": "restart",
        "parameters": [{"name": "service", "required": True, "pattern": "^[a-z-]+$", "default": "nginx"}],
        "steps": [
            {"name": "Restart", "provider": local.name, "command": "systemctl restart {{ params.service }}"},
            {
                "name": "Check",
                "provider": local.pk,
                "command": "curl -fsS localhost",
                "condition": "previous_success",
                "retries": 2,
                "timeout_seconds": 10,
            },
        ],
        **overrides,
    }
