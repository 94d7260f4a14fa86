import atexit
import os
import shutil
import tempfile
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import override_settings
from kombu import pools

from alerts.selectors import _kept_sources
from common.actor import Actor, Source
from config.celery import app
from incidents.models import Priority
from incidents.services import incident_create
from tests.factories import IncidentFactory, ServiceFactory, UserFactory
from tests.incidents.support import seed_reference_data
from tests.programs import missing

# Each test process (and the subprocesses it starts) writes its metrics to a folder of its own, not
# to var/ where a running `make run` keeps its own. Before anything imports prometheus_client.
os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="mitigate-prometheus-")
atexit.register(shutil.rmtree, os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


@contextmanager
def celery_broker(url: str, options: dict | None = None):
    """Point the Celery app at another broker, with fresh connection pools, for a block."""
    saved = (app.conf.broker_url, app.conf.broker_transport_options)

    def switch(broker_url, transport_options):
        if app._pool is not None:
            app._pool.force_close_all()
            app._pool = None
        app.amqp._producer_pool = None
        # kombu keeps producer pools per connection globally; a closed one would be handed out again
        # to the next block that uses the same broker URL ("Acquire on closed pool").
        pools.reset()
        app.conf.broker_url = broker_url
        app.conf.broker_transport_options = transport_options

    switch(url, options or {})
    try:
        yield
    finally:
        switch(*saved)


@pytest.fixture(autouse=True, scope="session")
def _celery_in_memory():
    """Tasks that tests enqueue on commit go to an in-process broker, never to `make run`'s queue
    or CI's Redis; the worker test switches to the real broker itself."""
    with celery_broker("memory://"):
        yield


@pytest.fixture(autouse=True, scope="session")
def _static_files_as_they_are():
    """Production's static storage needs `collectstatic` first (hashed names from a manifest);
    tests use the apps' files as they are, whatever DEBUG says. tests/common/test_production.py
    runs the real thing under gunicorn."""
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        yield


@pytest.fixture(autouse=True)
def _no_kept_sources():
    """The webhook keeps the sources it read per process (alerts.selectors): each test starts with
    none, so its query counts do not depend on what ran before it."""
    _kept_sources.clear()
    yield
    _kept_sources.clear()


@pytest.fixture(autouse=True)
def _no_auth_failure_throttle(settings):
    """Every test client is 127.0.0.1 and the failure counters live in a shared cache (Redis in
    CI, files in var/ otherwise): tests that send bad tokens on purpose would add up to a 429 for
    later tests. The throttle's own tests (tests/common/test_auth_throttle.py) set a limit."""
    settings.AUTH_FAILURE_LIMIT = 10**9


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Transactional tests (threads, a live server, a worker) commit for real, and the flush after
    each one wipes what migrations seed. Put the priorities and groups back before every such test,
    so none depends on running first."""
    marker = request.node.get_closest_marker("django_db")
    if (marker and marker.kwargs.get("transaction")) or "live_server" in request.fixturenames:
        request.getfixturevalue("transactional_db")
        seed_reference_data()


def pytest_runtest_setup(item):
    # Like the tests that need sshd or Chromium (tests/programs.py): skipped here, failed on CI.
    if "postgres" in item.keywords and not ON_POSTGRES:
        missing("needs PostgreSQL (set DATABASE_URL; .ci/run does)")


@pytest.fixture
def user_factory(db):
    return UserFactory


@pytest.fixture
def service_factory(db):
    return ServiceFactory


@pytest.fixture
def incident_factory(db):
    return IncidentFactory


@pytest.fixture
def priorities(db) -> dict[str, Priority]:
    return {p.code: p for p in Priority.objects.all()}


@pytest.fixture
def admin_user(db) -> User:
    return UserFactory(username="admin", is_superuser=True)


@pytest.fixture
def responder(db) -> User:
    return UserFactory(username="responder", groups=["Responder"])


@pytest.fixture
def viewer(db) -> User:
    return UserFactory(username="viewer", groups=["Viewer"])


@pytest.fixture
def actor(responder) -> Actor:
    return Actor(user=responder, source=Source.API)


@pytest.fixture
def open_incident(db, actor, priorities):
    """Open an incident through the service, as production does."""

    def make(**kwargs):
        kwargs.setdefault("title", "Checkout returns 502")
        kwargs.setdefault("priority", priorities["P2"])
        return incident_create(by=kwargs.pop("by", actor), **kwargs)

    return make


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The production hasher costs ~1 s per user on these machines; tests only need it to work.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
