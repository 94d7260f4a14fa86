"""Outside text through the drills API: every value of the hostile corpus as a scenario's text and
as its synthetic alert's label and annotation, then a drill started from it: a 201 or a 400,
never a 500, and a refused start leaves nothing behind."""

import pytest

from drills.models import DrillRun
from tests.hostile import HOSTILE
from tests.incidents.api_support import client_for

pytestmark = pytest.mark.django_db


def test_hostile_scenario_text_and_alert_labels_never_500(user_factory, responder, drill_source, priorities):
    admin = client_for(user_factory(username="drill-admin", groups=["Admin"]))
    starter = client_for(responder)
    started_drills = 0
    for index, (name, value) in enumerate(HOSTILE.items()):
        created = admin.post(
            "/api/v1/drills/scenarios/",
            {
                "name": f"{index} {value}"[:150],
                "description": value,
                "expected_response": value,
                "start_mode": "synthetic_alert",
                "source": drill_source.pk,
                "alert_labels": {"alertname": "PgPoolExhausted", "instance": value},
                "alert_annotations": {"summary": value},
            },
            format="json",
        )
        assert created.status_code in (201, 400), (name, created.content)
        if created.status_code != 201:
            continue
        runs = DrillRun.objects.count()
        started = starter.post(
            "/api/v1/drills/runs/start/", {"scenario": created.json()["id"]}, format="json"
        )
        assert started.status_code in (201, 400), (name, started.content)
        if started.status_code == 400:
            assert DrillRun.objects.count() == runs, name
        started_drills += started.status_code == 201
    # Shell text is just text here: most of the corpus makes a scenario that starts.
    assert started_drills >= len(HOSTILE) // 2
