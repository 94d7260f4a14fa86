import json
from pathlib import Path

import pytest
from django.core.cache import cache

from alerts import ratelimit
from alerts.services import alert_rule_save, alert_source_create
from common.actor import Actor

# The actions fixtures (the test sshd, providers, runnable actions, approvers), shared rather than
# copied: automated responses run real actions.
from tests.actions.conftest import (  # noqa: F401
    approver,
    local_provider,
    openssh,
    runnable_action,
    ssh_provider,
    sshd,
    sshd_factory,
    sshd_keys,
)
from tests.actions.factories import ActionFactory

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture(autouse=True)
def _isolated_cache(settings, monkeypatch):
    """Rate-limit counters live in Redis, or in the cache without REDIS_URL; each test starts from
    an empty in-memory cache and no Redis, so counters of an earlier test (same source id, same
    minute) never leak in; and from fresh process-local windows, so a test that made Redis fail
    leaves no fallback behind. The tests of the Redis limiter set REDIS_URL themselves."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.REDIS_URL = ""
    monkeypatch.setattr(ratelimit, "_local", ratelimit._LocalWindows())
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_source(db):
    """Create a source through the service; returns (source, token)."""

    def make(**kwargs):
        kwargs.setdefault("name", "Prometheus")
        kwargs.setdefault("kind", "alertmanager")
        return alert_source_create(by=Actor.system(), **kwargs)

    return make


# Processing and automated responses: a source, rules by name, an action with a host parameter.


@pytest.fixture
def source(make_source):
    return make_source()[0]


@pytest.fixture
def rule(db):
    def make(name="Instances down", responses=None, **data):
        data.setdefault("matchers", [{"label": "alertname", "op": "eq", "value": "InstanceDown"}])
        return alert_rule_save(by=Actor.system(), data={"name": name, **data}, responses=responses)

    return make


@pytest.fixture
def host_action(runnable_action):  # noqa: F811 (the fixture imported above, requested here)
    """An action with a `host` parameter, as a health check would have."""
    return runnable_action(
        name="Health check",
        parameters=[{"name": "host", "required": True, "pattern": r"[A-Za-z0-9.-]+(:[0-9]+)?"}],
    )


@pytest.fixture
def action(db):
    return ActionFactory(
        name="Restart service",
        parameters=[{"name": "host", "pattern": r"^[A-Za-z0-9.:-]+$"}, {"name": "unit"}],
    )
