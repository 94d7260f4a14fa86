"""Every write to incidents goes through these functions: admin, API, commands and tasks alike."""

from incidents.services.catalog import priority_update, service_create, service_delete, service_update
from incidents.services.incidents import EDITABLE_FIELDS, incident_create, incident_update
from incidents.services.lifecycle import (
    TRANSITION_SERVICES,
    incident_acknowledge,
    incident_auto_resolve,
    incident_close,
    incident_dismiss,
    incident_hold,
    incident_lock,
    incident_reopen,
    incident_resolve,
    incident_resume,
)
from incidents.services.repeats import incident_repeat_mark
from incidents.services.roles import incident_role_assign
from incidents.services.sla import incident_sla_sweep
from incidents.services.status_updates import status_update_create
from incidents.services.timeline import (
    TimelineEntry,
    incident_note_add,
    timeline_event_pin,
    timeline_event_record,
    timeline_events_record,
)

__all__ = [
    "EDITABLE_FIELDS",
    "TRANSITION_SERVICES",
    "TimelineEntry",
    "incident_acknowledge",
    "incident_auto_resolve",
    "incident_close",
    "incident_create",
    "incident_dismiss",
    "incident_hold",
    "incident_lock",
    "incident_note_add",
    "incident_reopen",
    "incident_repeat_mark",
    "incident_resolve",
    "incident_resume",
    "incident_role_assign",
    "incident_sla_sweep",
    "incident_update",
    "priority_update",
    "service_create",
    "service_delete",
    "service_update",
    "status_update_create",
    "timeline_event_pin",
    "timeline_event_record",
    "timeline_events_record",
]
