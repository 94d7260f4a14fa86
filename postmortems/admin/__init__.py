"""The Django admin for post-mortems and their action items. Admin classes only collect input and
call postmortems.services; every write, check and timeline event happens there."""

from postmortems.admin import action_items, postmortem
from postmortems.admin.incident import IncidentPostmortemInline

__all__ = ["IncidentPostmortemInline", "action_items", "postmortem"]
