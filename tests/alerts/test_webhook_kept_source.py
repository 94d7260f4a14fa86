"""The webhook keeps the sources it read (alerts.selectors.alert_source_kept), so a request usually
costs no lookup. The keep is only a hint: every change to a source takes effect on the next request,
in the process that kept it, because the statement storing the alerts finds the row changed and
the request is decided again on a fresh read; a refusal decided on a kept source is checked against
the row too."""

import pytest
from django.utils import timezone

from alerts.models import Alert, AlertPayload
from alerts.parsers import parse
from alerts.selectors import alert_source_kept
from alerts.services import (
    SourceChangedError,
    alert_source_delete,
    alert_source_rotate_token,
    alert_source_update,
    alerts_receive,
)
from alerts.services.sources import token_hash
from common.actor import Actor
from incidents.services import service_delete
from tests.alerts.support import am_alert, am_payload, assert_error, post
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system()


def send(client, token, fingerprint="fp-1", **headers):
    return post(client, f"/hooks/{token}/", am_payload(am_alert(fingerprint=fingerprint)), **headers)


def test_an_accepted_request_keeps_its_source(client, make_source):
    source, token = make_source()
    assert send(client, token).status_code == 202
    assert alert_source_kept(token_hash=token_hash(token)).pk == source.pk


def test_a_rotated_token_is_refused_at_once_and_the_new_one_works(client, make_source):
    source, old = make_source()
    assert send(client, old).status_code == 202
    new = alert_source_rotate_token(source=source, by=SYSTEM)

    assert_error(send(client, old, "fp-2"), 401, "not_authenticated")
    assert send(client, new, "fp-3").status_code == 202
    assert sorted(Alert.objects.values_list("fingerprint", flat=True)) == ["fp-1", "fp-3"]


def test_a_rotated_token_is_refused_at_once_with_the_slug_and_a_bearer(client, make_source):
    source, old = make_source(slug="prom")
    assert send(client, "prom", Authorization=f"Bearer {old}").status_code == 202
    alert_source_rotate_token(source=source, by=SYSTEM)

    response = post(
        client, "/hooks/prom/", am_payload(am_alert(fingerprint="fp-2")), Authorization=f"Bearer {old}"
    )
    assert_error(response, 401, "not_authenticated")
    assert Alert.objects.count() == 1


def test_disabling_and_enabling_take_effect_on_the_next_request(client, make_source):
    source, token = make_source()
    assert send(client, token).status_code == 202

    alert_source_update(source=source, by=SYSTEM, data={"enabled": False})
    assert_error(send(client, token, "fp-2"), 403, "source_disabled")
    alert_source_update(source=source, by=SYSTEM, data={"enabled": True})
    assert send(client, token, "fp-3").status_code == 202
    assert Alert.objects.count() == 2


def test_a_raised_rate_limit_is_not_refused_on_the_old_one(client, make_source):
    source, token = make_source(rate_limit_per_minute=1)
    assert send(client, token).status_code == 202
    assert_error(send(client, token, "fp-2"), 429, "rate_limited")

    alert_source_update(source=source, by=SYSTEM, data={"rate_limit_per_minute": 100})
    assert send(client, token, "fp-3").status_code == 202


def test_a_new_signing_secret_is_required_at_once(client, make_source):
    source, token = make_source()
    assert send(client, token).status_code == 202
    alert_source_update(source=source, by=SYSTEM, data={"hmac_secret": "s3cret"})

    assert_error(send(client, token, "fp-2"), 401, "signature_missing")
    assert Alert.objects.count() == 1


def test_a_deleted_source_is_refused_at_once(client, make_source):
    source, token = make_source()
    assert send(client, token).status_code == 202
    alert_source_delete(source=source, by=SYSTEM)

    assert_error(send(client, token, "fp-2"), 401, "not_authenticated")
    assert not AlertPayload.objects.exists()


def test_a_deleted_default_service_is_not_written_from_the_kept_source(client, make_source, service_factory):
    """Deleting the service sets the source's column to NULL without a save (no new updated_at): the
    alerts take the service from the row, not from the kept source."""
    service = service_factory()
    _, token = make_source(default_service=service)
    assert send(client, token).status_code == 202
    service_delete(by=SYSTEM, service=service)

    assert send(client, token, "fp-2").status_code == 202
    assert Alert.objects.get(fingerprint="fp-2").service_id is None


def test_a_kept_source_costs_no_lookup(client, make_source, django_assert_num_queries):
    """On PostgreSQL the one statement, the upsert, is all; the general path (SQLite) reads the
    source's row in its transaction, so there it is one fewer than with a lookup as well."""
    _, token = make_source()
    kept = 1 if ON_POSTGRES else 6
    with django_assert_num_queries(kept + 1):  # first request: the lookup, then the same
        assert send(client, token).status_code == 202
    with django_assert_num_queries(kept):
        assert send(client, token, "fp-2").status_code == 202


@pytest.mark.parametrize("alerts", [1, 2], ids=["one statement", "general path"])
def test_storing_against_a_changed_source_stores_nothing(make_source, alerts):
    """The service's check, on both paths: a payload with a repeated fingerprint takes the general
    path, one alert the one statement on PostgreSQL."""
    source, _ = make_source()
    as_of = source.updated_at
    alert_source_update(source=source, by=SYSTEM, data={"max_labels": 50})
    raw = am_payload(*[am_alert(fingerprint="fp-1") for _ in range(alerts)])

    with pytest.raises(SourceChangedError):
        alerts_receive(source=source, payload=parse(source.kind, raw), raw=raw, as_of=as_of)
    assert not AlertPayload.objects.exists()
    assert not Alert.objects.exists()
    assert alerts_receive(source=source, payload=parse(source.kind, raw), raw=raw, as_of=source.updated_at)


def test_a_source_saved_again_has_a_new_updated_at(make_source):
    """What the check relies on: every save through the services moves updated_at."""
    source, _ = make_source()
    before = source.updated_at
    alert_source_update(source=source, by=SYSTEM, data={"name": "Renamed"})
    assert source.updated_at > before
    assert source.updated_at <= timezone.now()
