"""The write path for post-mortems and action items: admin, API and tasks call these."""

from postmortems.services.action_items import (
    action_item_complete,
    action_item_create,
    action_item_drop,
    action_item_reminders_send,
    action_item_reopen,
    action_item_start,
    action_item_update,
)
from postmortems.services.emails import (
    postmortem_emails_sweep,
    postmortem_publication_send,
    review_invitation_send,
)
from postmortems.services.postmortems import (
    postmortem_create,
    postmortem_draft_for_resolved,
    postmortem_drafts_sweep,
    postmortem_publish,
    postmortem_return_to_draft,
    postmortem_review_schedule,
    postmortem_submit,
    postmortem_update,
    review_suggestion,
)
from postmortems.services.timeline import (
    timeline_entry_add,
    timeline_entry_delete,
    timeline_entry_update,
    timeline_regenerate,
)

__all__ = [
    "action_item_complete",
    "action_item_create",
    "action_item_drop",
    "action_item_reminders_send",
    "action_item_reopen",
    "action_item_start",
    "action_item_update",
    "postmortem_create",
    "postmortem_draft_for_resolved",
    "postmortem_drafts_sweep",
    "postmortem_emails_sweep",
    "postmortem_publication_send",
    "postmortem_publish",
    "postmortem_return_to_draft",
    "postmortem_review_schedule",
    "postmortem_submit",
    "postmortem_update",
    "review_invitation_send",
    "review_suggestion",
    "timeline_entry_add",
    "timeline_entry_delete",
    "timeline_entry_update",
    "timeline_regenerate",
]
