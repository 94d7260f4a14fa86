import pytest
from django.conf import settings
from django.contrib.auth.models import User

from common.actor import Actor, Source
from incidents.models import Priority
from incidents.services import incident_create
from tests.factories import IncidentFactory, ServiceFactory, UserFactory
from tests.incidents.support import seed_reference_data

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Transactional tests (threads, a live server, a worker) commit for real, and the flush after
    each one wipes what migrations seed. Put the priorities and groups back before every such test,
    so none depends on running first."""
    marker = request.node.get_closest_marker("django_db")
    if (marker and marker.kwargs.get("transaction")) or "live_server" in request.fixturenames:
        request.getfixturevalue("transactional_db")
        seed_reference_data()


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL; .ci/run does)")
    for item in items:
        if "postgres" in item.keywords and not ON_POSTGRES:
            item.add_marker(skip)


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
