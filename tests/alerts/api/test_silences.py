"""Alerts REST API: silences."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Silence
from tests.actions.api_support import api_url, token_client
from tests.alerts.api.support import row_counts, silence_body

pytestmark = pytest.mark.django_db


def test_responder_creates_and_expires_a_silence(responder):
    client = token_client(responder)

    created = client.post(api_url("silences"), silence_body())

    assert created.status_code == 201, created.data
    assert created.data["created_by"] == "responder"
    assert created.data["active"] is True
    silence = Silence.objects.get(pk=created.data["id"])
    assert silence.created_by == responder
    assert silence.starts_at <= timezone.now()

    expired = client.post(api_url("silences", silence, "expire"))

    assert expired.status_code == 200, expired.data
    assert expired.data["active"] is False
    silence.refresh_from_db()
    assert silence.ends_at <= timezone.now()
    assert Silence.objects.count() == 1  # Expired, still on record.


def test_silence_edit_filter_and_bad_input(admin_client):
    now = timezone.now()
    active = Silence.objects.create(
        matchers=[{"label": "a", "op": "exists"}],
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=1),
        reason="Now",
    )
    over = Silence.objects.create(
        matchers=[{"label": "a", "op": "exists"}],
        starts_at=now - timedelta(days=2),
        ends_at=now - timedelta(days=1),
        reason="Before",
    )
    future = Silence.objects.create(
        matchers=[{"label": "a", "op": "exists"}],
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=2),
        reason="Later",
    )

    def ids(**query):
        return {row["id"] for row in admin_client.get(api_url("silences"), query).data["results"]}

    assert ids(active="true") == {active.pk}
    assert ids(active="false") == {over.pk, future.pk}
    assert ids() == {active.pk, over.pk, future.pk}

    patched = admin_client.patch(api_url("silences", future), {"reason": "Moved maintenance"})
    assert patched.status_code == 200 and patched.data["reason"] == "Moved maintenance"

    before = row_counts()
    no_matchers = admin_client.post(api_url("silences"), silence_body(matchers=[]))
    backwards = admin_client.post(
        api_url("silences"), silence_body(ends_at=(now - timedelta(hours=1)).isoformat())
    )
    bad_op = admin_client.patch(api_url("silences", active), {"matchers": [{"label": "a", "op": "~"}]})
    assert no_matchers.status_code == 400 and no_matchers.data["matchers"]
    assert backwards.status_code == 400 and backwards.data["ends_at"]
    assert bad_op.status_code == 400 and bad_op.data["matchers"]
    assert row_counts() == before
    active.refresh_from_db()
    assert active.matchers == [{"label": "a", "op": "exists"}]
