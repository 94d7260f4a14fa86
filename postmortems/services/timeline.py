"""A post-mortem's timeline, generated from the machine record and edited by its authors.

The incident's timeline already holds every transition, alert attached or resolved, action run
milestone, status update and role change, each with who did it; alerts add their onset (`starts_at`,
before anyone knew). Generated entries are keyed by their record, so regenerating updates them in
place and keeps what authors did to them (pinned, hidden, reworded); author entries are never touched.
Events responders pinned on the incident arrive pinned: they are the key moments that lead the
post-mortem's timeline (postmortems.selectors.postmortem_timeline)."""

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from alerts.models import Alert
from common.actor import Actor
from common.exceptions import TransitionNotAllowedError
from common.fsm import row_lock
from incidents.choices import EventKind
from incidents.models import TimelineEvent
from postmortems.choices import EntrySource, PostmortemStatus
from postmortems.models import Postmortem, TimelineEntry

CHANGE_PERMISSION = "postmortems.change_postmortem"
AUTOMATED = "Automated"
# Field edits and the post-mortem's own milestones are not part of the incident's story.
LEFT_OUT = (EventKind.UPDATED, EventKind.POSTMORTEM)
# The generated fields a regeneration brings up to date.
REFRESHED = ("occurred_at", "event", "who", "source")


def _source_of(kind: str) -> str:
    if kind.startswith("alert_"):
        return EntrySource.ALERT
    if kind.startswith("action_"):
        return EntrySource.ACTION_RUN
    if kind == EventKind.STATUS_UPDATE:
        return EntrySource.STATUS_UPDATE
    return EntrySource.TIMELINE


def generated_entries(postmortem: Postmortem) -> list[dict[str, Any]]:
    """The entries the machine record gives, in time order, as field dicts keyed by `key`; an
    event pinned on the incident gives a pinned entry."""
    incident = postmortem.incident
    entries = []
    for alert in Alert.objects.filter(incident=incident).order_by("starts_at", "id"):
        entries.append(
            {
                "key": f"alert:{alert.pk}:started",
                "source": EntrySource.ALERT,
                "occurred_at": alert.starts_at,
                "event": f"Alert {alert.name or alert.fingerprint} started firing ({alert.source.name}).",
                "who": AUTOMATED,
                "pinned": False,
            }
        )
    events = (
        TimelineEvent.objects.filter(incident=incident)
        .exclude(kind__in=LEFT_OUT)
        .order_by("occurred_at", "id")
    )
    for event in events:
        entries.append(
            {
                "key": f"timeline:{event.pk}",
                "source": _source_of(event.kind),
                "occurred_at": event.occurred_at,
                "event": event.message,
                "who": event.actor_name if event.actor_id else AUTOMATED,
                "pinned": event.pinned,
            }
        )
    entries.sort(key=lambda entry: entry["occurred_at"])
    return entries


def postmortem_editable_check(*, postmortem: Postmortem, by: Actor) -> None:
    """Refuse an edit by someone who may not edit post-mortems, or of a published one."""
    by.require(CHANGE_PERMISSION, "edit post-mortems")
    if postmortem.status == PostmortemStatus.PUBLISHED:
        raise TransitionNotAllowedError("The post-mortem is published: it no longer changes.")


def timeline_regenerate(*, postmortem: Postmortem, by: Actor) -> int:
    """Add entries for records new since the last generation and refresh the generated fields of
    the others; authors' pins, hides and wording stay. An event pinned on the incident since pins its
    entry; unpinning it there leaves the entry to the authors. Returns how many entries were added."""
    postmortem_editable_check(postmortem=postmortem, by=by)
    with transaction.atomic():
        locked = row_lock(instance=postmortem, related=("incident",))
        existing = {entry.key: entry for entry in locked.entries.exclude(key="")}
        new, changed = [], []
        for spec in generated_entries(locked):
            entry = existing.get(spec["key"])
            if entry is None:
                new.append(TimelineEntry(postmortem=locked, **spec))
                continue
            if spec["pinned"] and not entry.pinned:
                entry.pinned = True
                changed.append(entry)
            if any(getattr(entry, field) != spec[field] for field in REFRESHED):
                for field in REFRESHED:
                    setattr(entry, field, spec[field])
                if entry not in changed:
                    changed.append(entry)
        TimelineEntry.objects.bulk_create(new)
        if changed:
            TimelineEntry.objects.bulk_update(changed, [*REFRESHED, "pinned"])
    return len(new)


def timeline_entry_add(
    *, postmortem: Postmortem, by: Actor, occurred_at: datetime, text: str
) -> TimelineEntry:
    """An author's own entry, e.g. "14:30 Root cause identified"."""
    postmortem_editable_check(postmortem=postmortem, by=by)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": ["Say what happened."]})
    if occurred_at is None:
        raise ValidationError({"occurred_at": ["Say when it happened."]})
    with transaction.atomic():
        return TimelineEntry.objects.create(
            postmortem=postmortem,
            source=EntrySource.AUTHOR,
            occurred_at=occurred_at,
            event=text,
            who=str(by),
            added_by=by.user,
        )


def timeline_entry_update(
    *,
    entry: TimelineEntry,
    by: Actor,
    text: str | None = None,
    pinned: bool | None = None,
    hidden: bool | None = None,
    occurred_at: datetime | None = None,
) -> TimelineEntry:
    """Pin, hide or reword an entry (an empty text restores the generated wording); only author
    entries may move in time."""
    postmortem_editable_check(postmortem=entry.postmortem, by=by)
    fields = []
    if text is not None:
        text = text.strip()
        if entry.source == EntrySource.AUTHOR:
            if not text:
                raise ValidationError({"text": ["An author entry needs text."]})
            entry.event = text
            fields.append("event")
        else:
            entry.text = text
            fields.append("text")
    if pinned is not None:
        entry.pinned = bool(pinned)
        fields.append("pinned")
    if hidden is not None:
        entry.hidden = bool(hidden)
        fields.append("hidden")
    if occurred_at is not None:
        if entry.source != EntrySource.AUTHOR:
            raise ValidationError({"occurred_at": ["Generated entries keep the time of their record."]})
        entry.occurred_at = occurred_at
        fields.append("occurred_at")
    if fields:
        with transaction.atomic():
            entry.save(update_fields=fields)
    return entry


def timeline_entry_delete(*, entry: TimelineEntry, by: Actor) -> None:
    """Authors remove their own entries; generated ones can only be hidden."""
    postmortem_editable_check(postmortem=entry.postmortem, by=by)
    if entry.source != EntrySource.AUTHOR:
        raise ValidationError({"entry": ["Generated entries cannot be deleted; hide them instead."]})
    entry.delete()
