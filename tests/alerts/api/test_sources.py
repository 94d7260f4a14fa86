"""Alerts REST API: sources and their tokens."""

import pytest

from alerts.models import AlertSource
from tests.actions.api_support import api_url
from tests.alerts.api.support import hook

pytestmark = pytest.mark.django_db


def test_create_source_shows_token_and_url_once(admin_client, service_factory):
    service = service_factory()

    created = admin_client.post(
        api_url("alert-sources"),
        {"name": "Prod Alertmanager", "kind": "alertmanager", "default_service": service.slug},
    )

    assert created.status_code == 201, created.data
    token = created.data["token"]
    assert len(token) >= 40
    assert created.data["webhook_url"] == f"http://testserver/hooks/{token}/"
    assert created.data["token_prefix"] == token[:8]
    assert created.data["slug"] == "prod-alertmanager"
    assert created.data["default_service"] == service.slug
    assert created.data["hmac_secret_set"] is False
    source_id = created.data["id"]
    for url in (api_url("alert-sources", source_id), api_url("alert-sources")):
        response = admin_client.get(url)
        assert response.status_code == 200
        assert token not in response.content.decode()
        assert b'"token"' not in response.content
        assert b"webhook_url" not in response.content
    assert admin_client.get(api_url("alert-sources", source_id)).data["token_prefix"] == token[:8]
    # The token works at the webhook.
    assert hook(token).status_code in (200, 201, 202)


def test_rotate_token_invalidates_the_old_one(admin_client, make_source):
    source, old = make_source()

    rotated = admin_client.post(api_url("alert-sources", source, "rotate-token"))

    assert rotated.status_code == 200, rotated.data
    new = rotated.data["token"]
    assert new != old
    assert rotated.data["webhook_url"] == f"http://testserver/hooks/{new}/"
    assert hook(old).status_code == 401
    assert hook(new).status_code in (200, 201, 202)
    shown = admin_client.get(api_url("alert-sources", source))
    assert shown.data["token_prefix"] == new[:8]
    assert new not in shown.content.decode()


def test_hmac_secret_is_write_only(admin_client):
    secret = "grafana-signing-secret-42"

    created = admin_client.post(
        api_url("alert-sources"), {"name": "Grafana", "kind": "grafana", "hmac_secret": secret}
    )
    source = AlertSource.objects.get(pk=created.data["id"])
    url = api_url("alert-sources", source)
    renamed = admin_client.patch(url, {"name": "Grafana prod"})
    listed = admin_client.get(api_url("alert-sources"))

    assert created.status_code == 201
    assert renamed.status_code == 200
    for response in (created, renamed, listed, admin_client.get(url)):
        assert secret not in response.content.decode()
        assert b'"hmac_secret"' not in response.content
    assert renamed.data["hmac_secret_set"] is True
    assert AlertSource.objects.get(pk=source.pk).hmac_secret == secret  # Left out: kept.
    cleared = admin_client.patch(url, {"hmac_secret": ""})
    assert cleared.data["hmac_secret_set"] is False
    assert AlertSource.objects.get(pk=source.pk).hmac_secret == ""


def test_source_by_slug_edit_and_delete(admin_client, make_source, service_factory):
    source, _ = make_source(name="Prometheus EU")
    service = service_factory()

    shown = admin_client.get(api_url("alert-sources", "prometheus-eu"))
    patched = admin_client.patch(
        api_url("alert-sources", source),
        {"rate_limit_per_minute": 60, "default_service": service.pk, "enabled": False},
    )

    assert shown.status_code == 200 and shown.data["id"] == source.pk
    assert patched.status_code == 200, patched.data
    source.refresh_from_db()
    assert (source.rate_limit_per_minute, source.default_service, source.enabled) == (60, service, False)
    assert admin_client.delete(api_url("alert-sources", source)).status_code == 204
    assert not AlertSource.objects.filter(pk=source.pk).exists()


def test_source_label_limits_through_the_api(admin_client, make_source, settings):
    settings.ALERT_MAX_LABELS = 40
    created = admin_client.post(api_url("alert-sources"), {"name": "Limited", "kind": "alertmanager"})
    assert created.status_code == 201, created.data
    assert (created.data["max_labels"], created.data["max_label_value_length"]) == (40, 2048)

    url = api_url("alert-sources", created.data["id"])
    patched = admin_client.patch(url, {"max_labels": 10, "max_annotation_value_length": 500})
    refused = admin_client.patch(url, {"max_label_name_length": 0})

    assert patched.status_code == 200, patched.data
    assert (patched.data["max_labels"], patched.data["max_annotation_value_length"]) == (10, 500)
    assert refused.status_code == 400 and "max_label_name_length" in refused.data
    assert AlertSource.objects.get(pk=created.data["id"]).max_label_name_length == 256


def test_source_bad_input_writes_nothing(admin_client, make_source):
    make_source(name="Prometheus")
    before = AlertSource.objects.count()

    duplicate = admin_client.post(api_url("alert-sources"), {"name": "Prometheus", "kind": "alertmanager"})
    bad_kind = admin_client.post(api_url("alert-sources"), {"name": "Other", "kind": "nagios"})
    token = admin_client.post(api_url("alert-sources"), {"name": "X", "kind": "generic", "token_hash": "x"})

    assert duplicate.status_code == 400 and "name" in duplicate.data
    assert bad_kind.status_code == 400 and "kind" in bad_kind.data
    assert token.status_code == 400 and "token_hash" in token.data
    assert AlertSource.objects.count() == before
