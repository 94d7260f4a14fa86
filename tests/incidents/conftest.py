import pytest

from incidents.choices import IncidentStatus
from incidents.services import incident_acknowledge, incident_hold, incident_resolve
from tests.incidents.support import install_clock, postmortem_ready


@pytest.fixture
def clock(monkeypatch):
    """Django's clock frozen at START, moved only by the test."""
    return install_clock(monkeypatch)


@pytest.fixture
def in_status(open_incident, actor):
    """An incident brought to `status` through the services."""

    def make(status: str, *, postmortem: bool = True, **kwargs):
        incident = open_incident(**kwargs)
        if status in (IncidentStatus.IN_PROGRESS, IncidentStatus.ON_HOLD, IncidentStatus.RESOLVED):
            incident = incident_acknowledge(incident=incident, by=actor)
        if status == IncidentStatus.ON_HOLD:
            incident = incident_hold(incident=incident, by=actor, reason="Vendor")
        if status == IncidentStatus.RESOLVED:
            incident = incident_resolve(incident=incident, by=actor, summary="Fixed")
            if postmortem:  # A P1/P2 closes only with its post-mortem in review.
                incident = postmortem_ready(incident=incident, by=actor)
        return incident

    return make
