"""schemathesis over every operation of the OpenAPI schema, with every check: no server error and
no response the schema does not describe (issue 10, item 9). Bounded so it runs in a few minutes.

Schema-valid input may still be refused with a 400 when it names rows that do not exist ("user 0")
or breaks a rule OpenAPI cannot state (start/end only with range=custom): positive_data_acceptance
accepts a 400, and everything else it checks (no 5xx, no 415/422 for valid data) stands."""

import json

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.config._checks import PositiveDataAcceptanceConfig

from tests.incidents.api_support import token_client

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

MAX_EXAMPLES = 8


def authorization(user) -> dict[str, str]:
    """The one place the fuzz run authenticates: the API tests' token client's credentials."""
    return {"Authorization": token_client(user)._credentials["HTTP_AUTHORIZATION"]}


@pytest.fixture
def superuser(user_factory):
    return user_factory(username="fuzz", is_superuser=True, is_staff=True)


@pytest.fixture(autouse=True)
def _one_transaction(settings):
    # As Django's test client does: the test's transaction outlives each request.
    settings.ALLOWED_HOSTS = ["*"]
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def load_schema():
    """The schema the app serves at /api/schema/, called through the app itself (WSGI)."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(json.dumps(document, default=str)))
    loaded.app = WSGIHandler()
    loaded.config.checks.update(included_check_names=["all"])
    loaded.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
        expected_statuses=["2xx", "400", "401", "403", "404", "409"]
    )
    return loaded


schema = load_schema()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    derandomize=True,  # The same cases on every CI run; explore with a random seed by hand.
)
def test_api_conforms_to_its_schema(case, superuser):
    case.call_and_validate(headers=authorization(superuser))
