"""The hostile corpus through the runbook and service capture APIs: each value is stored and read
back unchanged (but for trimmed ends) or refused with field errors; never a 500, never a
half-written runbook; on the incident page a stored step shows as text."""

import pytest

from actions.models import Runbook, RunbookVersion, ServiceCapture
from tests.hostile import HOSTILE
from tests.incidents.api_support import token_client

VALUES = list(HOSTILE.values())
IDS = list(HOSTILE)


@pytest.fixture
def api(catalog_admin):
    return token_client(catalog_admin)


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_runbook_text(api, runnable_action, value):
    restart = runnable_action(name="Restart pool", parameters=[{"name": "host", "pattern": "^[a-z0-9.-]+$"}])
    body = {
        "title": value[:200],
        "summary": value,
        "steps": [{"text": value, "action": restart.pk, "parameters": {"host": value}}],
    }

    response = api.post("/api/v1/runbooks/", body, format="json")

    assert response.status_code in (201, 400), (response.status_code, response.content[:300])
    if response.status_code == 400:
        assert not Runbook.objects.exists() and not RunbookVersion.objects.exists()
        assert set(response.json()) - {"detail", "code"}
        return
    runbook = Runbook.objects.get()
    step = runbook.steps.get()
    assert (runbook.title, step.text) == (value[:200].strip(), value.strip())
    assert step.parameters == {"host": value.strip()}
    assert RunbookVersion.objects.get(runbook=runbook).steps[0]["text"] == value.strip()


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_service_capture_parameters(api, runnable_action, service_factory, value):
    service_factory(slug="web")
    health = runnable_action(
        name="Health check", parameters=[{"name": "endpoint", "pattern": "^[0-9]{1,5}$"}]
    )

    response = api.post(
        "/api/v1/service-captures/",
        {"service": "web", "action": health.pk, "parameters": {"endpoint": value}},
        format="json",
    )

    if not value.strip():  # Nothing given: the action's default applies.
        assert response.status_code == 201
        return
    assert response.status_code == 400 and "parameters" in response.json()
    assert not ServiceCapture.objects.exists()
