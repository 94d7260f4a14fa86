"""Fixtures of the alerts REST API tests. They live here, not in tests/alerts/conftest.py, because
two of them replace fixtures of the same name that the other alerts tests rely on: `admin_client`
(pytest-django's logged-in admin session) and `host_action` (a runnable action)."""

import pytest

from tests.actions.api_support import client_for, token_client
from tests.actions.factories import ActionFactory, ActionRunFactory


@pytest.fixture
def admin_client(admin_user):
    return token_client(admin_user)


@pytest.fixture
def client_as(user_factory):
    def make(group: str):
        if group == "anonymous":
            return client_for(None)
        return token_client(user_factory(username=f"{group.lower()}-member", groups=[group]))

    return make


@pytest.fixture
def host_action(action_factory):
    """An action declaring one parameter, `host`, that responses map from the alert's labels."""

    def make(name: str = "Restart service"):
        return action_factory(
            name=name, parameters=[{"name": "host", "required": True, "pattern": r"^[A-Za-z0-9.:-]+$"}]
        )

    return make


@pytest.fixture
def action_factory(db):
    return ActionFactory


@pytest.fixture
def action_run_factory(db):
    return ActionRunFactory
