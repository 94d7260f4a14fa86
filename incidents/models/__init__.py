from incidents.models.catalog import Priority, Service
from incidents.models.incident import Incident, IncidentSequence
from incidents.models.roles import RoleAssignment
from incidents.models.status_update import StatusUpdate
from incidents.models.timeline import TimelineEvent

__all__ = [
    "Incident",
    "IncidentSequence",
    "Priority",
    "RoleAssignment",
    "Service",
    "StatusUpdate",
    "TimelineEvent",
]
