"""Post-mortems, their timelines and action items, and the reminder digests sent to owners."""

from postmortems.models.action_item import ActionItem, ReminderDigest
from postmortems.models.postmortem import Postmortem
from postmortems.models.timeline import TimelineEntry

__all__ = ["ActionItem", "Postmortem", "ReminderDigest", "TimelineEntry"]
