"""The hostile corpus through every free-text field the on-call API stores (schedule, layer, policy
and override names, descriptions, teams, reasons) and the time-zone and `at` parameters: each value
is stored and read back unchanged or refused with a field error; never a 500, never a half-written row."""

from datetime import timedelta

import pytest
from django.utils import timezone

from oncall.models import EscalationPolicy, Layer, Override, Schedule
from tests.hostile import HOSTILE
from tests.incidents.api_support import token_client
from tests.oncall.config_support import schedule_make

pytestmark = pytest.mark.django_db
BASE = "/api/v1/oncall"
VALUES = list(HOSTILE.values())
IDS = list(HOSTILE)


@pytest.fixture
def api(admin_user):
    return token_client(admin_user)


def stored_or_refused(response, field: str, value: str, stored) -> None:
    value = value.strip()
    assert response.status_code in (201, 400), (response.status_code, response.content[:300])
    if response.status_code == 201:
        assert stored() == value  # as sent, but for the ends' whitespace, which the API trims
    else:
        assert field in response.json()


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_schedule_text(api, value):
    body = {"name": value, "description": value, "team": value, "time_zone": "Europe/Berlin"}
    response = api.post(f"{BASE}/schedules/", body, format="json")
    if response.status_code == 400:
        assert not Schedule.objects.exists()
    stored_or_refused(response, "name", value, lambda: Schedule.objects.get().description)
    zone = api.post(f"{BASE}/schedules/", {"name": "z", "time_zone": value}, format="json")
    assert zone.status_code == 400 and "time_zone" in zone.json()


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_layer_and_override_text(api, admin_user, value):
    schedule = schedule_make()
    layer = api.post(
        f"{BASE}/layers/",
        {"schedule": schedule.pk, "name": value, "start_date": "2026-01-05", "handoff_time": value},
        format="json",
    )
    assert layer.status_code == 400 and "handoff_time" in layer.json()
    assert not Layer.objects.exists()
    now = timezone.now()
    override = api.post(
        f"{BASE}/overrides/",
        {
            "schedule": schedule.pk,
            "user": admin_user.pk,
            "starts_at": now.isoformat(),
            "ends_at": (now + timedelta(hours=1)).isoformat(),
            "reason": value,
        },
        format="json",
    )
    if override.status_code == 400:
        assert not Override.objects.exists()
    stored_or_refused(override, "reason", value, lambda: Override.objects.get().reason)
    at = api.get(f"{BASE}/schedules/{schedule.pk}/on-call/", {"at": value})
    assert at.status_code == 400 and "at" in at.json()


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_policy_text(api, admin_user, value):
    body = {"name": value, "description": value, "steps": [{"delay_minutes": 0, "users": [admin_user.pk]}]}
    response = api.post(f"{BASE}/escalation-policies/", body, format="json")
    if response.status_code == 400:
        assert not EscalationPolicy.objects.exists()
    stored_or_refused(response, "name", value, lambda: EscalationPolicy.objects.get().description)
