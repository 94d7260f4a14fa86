"""Alerts REST API: who may do what, and the OpenAPI schema."""

import pytest

from alerts.models import AlertSource
from tests.actions.api_support import api_url
from tests.alerts.api.support import SINGLE, row_counts, rule_body, silence_body

pytestmark = pytest.mark.django_db


LISTS = ("alert-sources", "alerts", "alert-rules", "silences")


@pytest.mark.parametrize("group", ["anonymous", "Viewer", "Responder", "Admin"])
def test_read_access(client_as, group):
    client = client_as(group)

    for resource in LISTS:
        assert client.get(api_url(resource)).status_code == (401 if group == "anonymous" else 200), resource
    test = client.post(api_url("alert-rules", action="test"), {"kind": "alertmanager", "payload": SINGLE})
    assert test.status_code == (401 if group == "anonymous" else 200)


@pytest.mark.parametrize(
    ("group", "sources", "rules", "silences"),
    [
        ("anonymous", 401, 401, 401),
        ("Viewer", 403, 403, 403),
        ("Responder", 403, 403, 201),
        ("Admin", 201, 201, 201),
    ],
)
def test_write_access(client_as, make_source, group, sources, rules, silences):
    existing, _ = make_source(name="Existing")
    client = client_as(group)
    before = row_counts()

    assert client.post(api_url("alert-sources"), {"name": "New", "kind": "generic"}).status_code == sources
    rotate = client.post(api_url("alert-sources", existing, "rotate-token"))
    assert rotate.status_code == (200 if sources == 201 else sources)
    assert client.post(api_url("alert-rules"), rule_body()).status_code == rules
    assert client.post(api_url("silences"), silence_body()).status_code == silences

    if group in ("anonymous", "Viewer"):
        assert row_counts() == before
        assert AlertSource.objects.get(pk=existing.pk).token_hash == existing.token_hash


def test_schema_documents_the_alerts_api(admin_client, tmp_path):
    from django.core.management import call_command

    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = admin_client.get("/api/schema/", {"format": "json"}).json()

    paths = schema["paths"]
    for path in (
        "/api/v1/alert-sources/",
        "/api/v1/alert-sources/{id}/rotate-token/",
        "/api/v1/alerts/",
        "/api/v1/alerts/{id}/create-incident/",
        "/api/v1/alert-rules/",
        "/api/v1/alert-rules/test/",
        "/api/v1/silences/",
        "/api/v1/silences/{id}/expire/",
    ):
        assert path in paths, path
    components = schema["components"]["schemas"]
    assert "hmac_secret" in components["AlertSourceCreateInputRequest"]["properties"]
    assert not {"hmac_secret", "token"} & set(components["AlertSource"]["properties"])
    assert "token" in components["AlertSourceCreated"]["properties"]
