"""The hostile corpus stored by the webhook: as a label value, an annotation and an alert name, on
the one-statement path on PostgreSQL (alerts.services.ingest_upsert) and the general path on
SQLite. Each value is kept exactly as sent (or refused with a 400 that stores nothing), and the
same alert sent again is counted on the same row."""

import json

import pytest

from alerts.models import Alert, AlertPayload
from alerts.services.ingest import NAME_LENGTH
from tests.alerts.support import am_alert, am_payload
from tests.hostile import HOSTILE


def post(client, token: str, alert: dict):
    body = json.dumps(am_payload(alert))
    return client.post(f"/hooks/{token}/", data=body, content_type="application/json")


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_value_is_stored_as_sent_or_refused_whole(client, make_source, value):
    source, token = make_source()
    alert = am_alert("Hostile", fingerprint="fp-hostile", value=value)
    alert["labels"]["alertname"] = value or "empty"
    alert["annotations"]["summary"] = value

    first, second = post(client, token, alert), post(client, token, alert)

    assert first.status_code in (202, 400), first.content
    assert second.status_code == first.status_code
    if first.status_code == 400:
        assert first.json()["code"] == "invalid_payload"
        assert not Alert.objects.exists() and not AlertPayload.objects.exists()
        return
    stored = Alert.objects.get(source=source)
    assert stored.labels["value"] == value
    assert stored.annotations["summary"] == value
    assert stored.name == (value or "empty")[:NAME_LENGTH]
    assert stored.occurrence_count == 2
    assert AlertPayload.objects.filter(source=source).count() == 2
    assert stored.payload.body["alerts"][0]["labels"]["value"] == value
