import json
from pathlib import Path

import pytest
from django.core.cache import cache

from alerts import ratelimit
from alerts.models import AlertSource
from alerts.services import alert_source_create
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
    """Rate-limit counters live in the cache; each test starts from an empty in-memory one, so
    counters of an earlier test (same source id, same minute) never leak in; and from fresh
    process-local windows, so a test that made the cache fail leaves no fallback behind."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
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


@pytest.fixture
def source(make_source) -> AlertSource:
    return make_source()[0]


@pytest.fixture
def action(db):
    return ActionFactory(
        name="Restart service",
        parameters=[{"name": "host", "pattern": r"^[A-Za-z0-9.:-]+$"}, {"name": "unit"}],
    )
