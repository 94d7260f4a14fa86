"""Alert sources: the token shown once and stored as a hash, the encrypted HMAC secret, rotation,
permissions and known kinds."""

import pytest
from django.db import connection

from alerts.models import AlertSource
from alerts.services import alert_source_create, alert_source_rotate_token, token_hash
from common.actor import Actor, Source
from common.exceptions import ApplicationError, PermissionDeniedError

pytestmark = pytest.mark.django_db


def test_create_returns_token_once_and_stores_only_its_hash(make_source, service_factory):
    service = service_factory()
    source, token = make_source(name="Prod Alertmanager", default_service=service)

    assert source.slug == "prod-alertmanager"
    assert len(token) >= 40
    assert source.token_prefix == token[:8]
    assert source.token_hash == token_hash(token)
    row = AlertSource.objects.filter(pk=source.pk).values().get()
    assert all(token not in str(value) for value in row.values())
    assert row["rate_limit_per_minute"] == 600
    assert row["max_body_bytes"] == 1024 * 1024


def test_hmac_secret_is_encrypted_at_rest(make_source):
    source, _ = make_source(kind="grafana", hmac_secret="grafana-shared-secret")
    with connection.cursor() as cursor:
        cursor.execute("SELECT hmac_secret FROM alerts_alertsource WHERE id = %s", [source.pk])
        (stored,) = cursor.fetchone()
    assert stored and "grafana-shared-secret" not in stored
    assert AlertSource.objects.get(pk=source.pk).hmac_secret == "grafana-shared-secret"


def test_rotate_replaces_the_token(make_source):
    source, old = make_source()
    new = alert_source_rotate_token(source=source, by=Actor.system())

    source.refresh_from_db()
    assert new != old
    assert source.token_hash == token_hash(new)
    assert source.token_prefix == new[:8]


def test_create_and_rotate_need_permissions(make_source, viewer, admin_user):
    as_viewer = Actor(user=viewer, source=Source.API)
    with pytest.raises(PermissionDeniedError):
        alert_source_create(by=as_viewer, name="Nope", kind="generic")
    source, _ = alert_source_create(by=Actor(user=admin_user, source=Source.API), name="Yes", kind="generic")
    with pytest.raises(PermissionDeniedError):
        alert_source_rotate_token(source=source, by=as_viewer)


def test_create_refuses_an_unknown_kind(db):
    with pytest.raises(ApplicationError):
        alert_source_create(by=Actor.system(), name="Zabbix", kind="zabbix")
