import pytest

from alerts.services import alert_rule_save, alert_source_create
from common.actor import Actor
from drills.choices import StartMode
from drills.services import drill_scenario_save
from tests.actions.conftest import local_provider, runnable_action  # noqa: F401 (fixtures)

SYSTEM = Actor.system()


@pytest.fixture
def drill_source(db):
    return alert_source_create(by=SYSTEM, name="Drills", kind="alertmanager", is_drill=True)[0]


@pytest.fixture
def drill_rule(db):
    """A rule that opens an incident for the drill alerts the scenarios below post."""
    return alert_rule_save(
        by=SYSTEM,
        data={
            "name": "Pool exhausted",
            "matchers": [{"label": "alertname", "op": "eq", "value": "PgPoolExhausted"}],
        },
    )


@pytest.fixture
def scenario(db, priorities):
    """Make a scenario through the service: direct mode (P3) unless told otherwise."""

    def make(**data):
        data.setdefault("name", "Database connection exhaustion")
        data.setdefault("kind", "database_connections")
        if data.get("start_mode") == StartMode.SYNTHETIC_ALERT:
            data.setdefault("alert_labels", {"alertname": "PgPoolExhausted", "severity": "critical"})
            data.setdefault("alert_annotations", {"summary": "Connection pool exhausted on db-1"})
        else:
            data.setdefault("start_mode", StartMode.DIRECT)
            data.setdefault("priority", priorities["P3"])
        return drill_scenario_save(by=SYSTEM, data=data)

    return make
