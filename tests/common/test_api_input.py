"""Input the schemathesis run and the hostile corpus broke the API with (issue 10, items 9 and 14):
each is now a JSON 4xx with the field at fault, never a 500 or an HTML page."""

import io
import json

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from actions.models import ActionRun
from incidents.models import Incident
from postmortems.models import ActionItem
from postmortems.services import postmortem_create
from tests.actions.factories import ActionFactory, ActionStepFactory
from tests.incidents.api_support import client_for, drive, incidents_url, token_client

pytestmark = pytest.mark.django_db

NUL = "before\x00after"


@pytest.fixture
def api(admin_user):
    return client_for(admin_user)


def field_error(response, field: str) -> str:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    body = response.json()
    assert body["code"] == "invalid"
    return " ".join(body[field])


# --- Item 14: the incident API ---------------------------------------------------------------------


def test_a_non_numeric_incident_id_is_a_json_404_even_in_debug(api, settings):
    settings.DEBUG = True

    response = api.get("/api/v1/incidents/abc/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_a_url_without_its_trailing_slash_is_a_json_404_that_says_so(api, settings):
    settings.DEBUG = True

    response = api.post("/api/v1/incidents", {"title": "x"})

    assert response.status_code == 404
    assert response.json()["detail"].endswith("/api/v1/incidents/")


def test_a_number_is_not_a_title(api, priorities):
    response = api.post(incidents_url(), {"title": 123, "priority": "P2"})

    assert field_error(response, "title") == "Not a valid string."
    assert not Incident.objects.exists()


def test_priority_codes_in_any_case(api, priorities):
    response = api.post(incidents_url(), {"title": "Checkout down", "priority": "p2"})

    assert response.status_code == 201, response.json()
    assert response.json()["priority"] == "P2"


def test_an_unknown_priority_lists_the_valid_codes(api, priorities):
    response = api.post(incidents_url(), {"title": "Checkout down", "priority": "P9"})

    assert field_error(response, "priority") == 'No priority with id or code "P9". Valid: P1, P2, P3, P4, P5.'


def test_filtering_by_an_unknown_priority_is_400_like_an_unknown_status(api, open_incident, priorities):
    open_incident(priority=priorities["P2"])

    assert api.get(incidents_url(), {"status": "bogus"}).status_code == 400
    message = field_error(api.get(incidents_url(), {"priority": "P9"}), "priority")
    assert "P1, P2, P3, P4, P5" in message
    found = api.get(incidents_url(), {"priority": "p2"})
    assert found.status_code == 200 and found.json()["count"] == 1


def wsgi_post(path: str, body: bytes, *, authorization: str, chunked: bool) -> tuple[int, dict]:
    """A request through Django's real WSGI handler, shaped as gunicorn hands over a chunked body:
    de-chunked on wsgi.input, with Transfer-Encoding and no Content-Length."""
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "CONTENT_TYPE": "application/json",
        "HTTP_AUTHORIZATION": authorization,
    }
    if chunked:
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    else:
        environ["CONTENT_LENGTH"] = str(len(body))
    status = []
    # As Django's test client does: the test's transaction must outlive the request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        chunks = WSGIHandler()(environ, lambda s, headers, exc_info=None: status.append(s))
        content = b"".join(chunks)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return int(status[0].split()[0]), json.loads(content)


def authorization(user) -> str:
    # Whatever credentials the API tests' token client sends, so a change of token scheme follows.
    return token_client(user)._credentials["HTTP_AUTHORIZATION"]


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_a_2_mb_post_is_413_however_it_is_sent(admin_user, priorities, chunked):
    body = json.dumps({"title": "x" * (2 * 1024 * 1024), "priority": "P2"}).encode()

    auth = authorization(admin_user)

    status, payload = wsgi_post(incidents_url(), body, authorization=auth, chunked=chunked)

    assert status == 413
    assert payload["code"] == "too_large"
    assert not Incident.objects.exists()


def test_a_small_chunked_post_is_read(admin_user, priorities):
    body = json.dumps({"title": "Checkout down", "priority": "P2"}).encode()

    status, payload = wsgi_post(incidents_url(), body, authorization=authorization(admin_user), chunked=True)

    assert status == 201, payload
    assert payload["title"] == "Checkout down"


# --- Item 9: what schemathesis found ---------------------------------------------------------------


def test_nul_in_run_parameters_is_a_field_error(api):
    action = ActionFactory()
    ActionStepFactory(action=action)

    response = api.post(f"/api/v1/actions/{action.pk}/run/", {"parameters": {"service": NUL}})

    assert field_error(response, "parameters") == "Null characters are not allowed."
    assert not ActionRun.objects.exists()


def test_nul_in_a_parameter_name_is_a_field_error(api):
    action = ActionFactory()

    response = api.post(f"/api/v1/actions/{action.pk}/run/", {"parameters": {NUL: "web"}})

    assert field_error(response, "parameters") == "Null characters are not allowed."


@pytest.fixture
def postmortem(open_incident, actor):
    incident = drive(open_incident(), "resolved", by=actor)
    return postmortem_create(incident=incident, by=actor)


def test_nul_in_post_mortem_sections_is_a_field_error(api, postmortem):
    response = api.patch(
        f"/api/v1/postmortems/{postmortem.pk}/",
        {"five_whys": [{"question": "Why?", "answer": NUL}], "supporting_links": [{"title": NUL, "url": ""}]},
    )

    assert field_error(response, "five_whys") == "Null characters are not allowed."
    assert field_error(response, "supporting_links") == "Null characters are not allowed."
    postmortem.refresh_from_db()
    assert postmortem.five_whys == []


def test_nul_in_an_action_item_is_a_field_error(api, postmortem, admin_user):
    response = api.post(
        "/api/v1/action-items/",
        {"postmortem": postmortem.pk, "description": NUL, "owner": admin_user.username, "kind": "prevention"},
    )

    assert field_error(response, "description") == "Null characters are not allowed."
    assert not ActionItem.objects.exists()


def test_nul_in_an_unknown_field_name_is_named_as_such(api, priorities):
    response = api.post(incidents_url(), {"title": "x", "priority": "P2", "a\x00b": 1})

    assert field_error(response, "a\x00b") == "Null characters are not allowed."


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/api/v1/incidents/", "created_after"),
        ("/api/v1/incidents/", "detected_before"),
        ("/api/v1/action-runs/", "created_after"),
        ("/api/v1/alerts/", "received_after"),
        ("/api/v1/notifications/deliveries/", "created_after"),
    ],
)
@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_time_out_of_range_in_utc_is_a_field_error(api, path, param, value):
    message = field_error(api.get(path, {param: value}), param)

    assert message == "The time is out of range once converted to UTC."


@pytest.mark.parametrize("value", ["²", "١٢", "99999999999999999999999"])
@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/api/v1/action-runs/", "incident"),
        ("/api/v1/action-runs/", "requested_by"),
        ("/api/v1/postmortems/", "incident"),
        ("/api/v1/alerts/", "service"),
        ("/api/v1/incidents/", "assignee"),
        ("/api/v1/notifications/deliveries/", "incident"),
        ("/api/v1/notifications/deliveries/", "channel"),
        ("/api/v1/notifications/deliveries/", "user"),
        ("/api/v1/notifications/rules/", "channel"),
    ],
)
def test_unicode_digits_and_huge_numbers_in_id_or_name_filters_match_nothing(api, path, param, value):
    response = api.get(path, {param: value})

    assert response.status_code == 200, response.content[:300]
    assert response.json()["count"] == 0


@pytest.mark.parametrize("value", ["²", "١٢", "99999999999999999999999"])
def test_unicode_digits_in_id_or_name_fields_are_field_errors(api, priorities, value):
    response = api.post(incidents_url(), {"title": "Checkout down", "priority": value})

    assert field_error(response, "priority").startswith("No priority with id or code")


def test_an_id_filter_refuses_what_is_not_an_id(api):
    message = field_error(api.get("/api/v1/action-items/", {"postmortem": "-2.5e281"}), "postmortem")
    user = field_error(api.get("/api/v1/notifications/contact-methods/", {"user": "-2.5e281"}), "user")

    assert message == user == "Enter a whole number."


def test_related_limit_in_unicode_digits_is_a_field_error(api, open_incident):
    incident = open_incident()

    response = api.get(f"/api/v1/incidents/{incident.pk}/related/", {"limit": "²"})

    assert field_error(response, "limit") == "Give a whole number from 1 to 50."


@pytest.mark.parametrize("path", ["acknowledge.json", "timeline.json", "status-updates.json"])
def test_json_suffixes_on_custom_routes_are_a_json_404(api, open_incident, path):
    incident = open_incident()

    response = api.post(f"/api/v1/incidents/{incident.pk}/{path}")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    incident.refresh_from_db()
    assert incident.status == "new"


# --- The schema tells the truth -------------------------------------------------------------------


@pytest.fixture(scope="module")
def openapi():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def test_the_schema_documents_every_error_status(openapi):
    retrieve = openapi["paths"]["/api/v1/incidents/{id}/"]["get"]["responses"]
    create = openapi["paths"]["/api/v1/incidents/"]["post"]["responses"]

    assert {"401", "403", "404"} <= set(retrieve)
    assert {"400", "401", "403", "409", "413", "415"} <= set(create)


def test_the_schema_says_which_stored_values_may_be_null_or_blank(openapi):
    incident = openapi["components"]["schemas"]["Incident"]["properties"]

    assert incident["assignee"]["nullable"] is True
    assert {"$ref": "#/components/schemas/BlankEnum"} in incident["phase"]["oneOf"]


def test_the_schema_refuses_unknown_input_fields_as_the_api_does(openapi):
    body = openapi["components"]["schemas"]["IncidentCreateInputRequest"]

    assert body["additionalProperties"] is False
    assert (
        "application/x-www-form-urlencoded"
        not in openapi["paths"]["/api/v1/incidents/"]["post"]["requestBody"]["content"]
    )
