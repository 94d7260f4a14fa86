"""The post-mortem's timeline on its page: every entry (hidden ones greyed), per-row Pin, Hide and
Reword, an "Add entry" form, and "Regenerate from the incident". Each is a POST to one admin URL
that calls postmortems.services and comes back to the page."""

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse

from common.admin.services import admin_actor, error_dict
from common.exceptions import ApplicationError
from postmortems.admin.forms import TimelineAddForm
from postmortems.choices import EntrySource
from postmortems.models import Postmortem, TimelineEntry
from postmortems.selectors import postmortem_timeline
from postmortems.services import (
    timeline_entry_add,
    timeline_entry_delete,
    timeline_entry_update,
    timeline_regenerate,
)

# op -> (timeline_entry_update kwargs, "Entry <done>.")
ENTRY_OPS = {
    "pin": ({"pinned": True}, "pinned"),
    "unpin": ({"pinned": False}, "unpinned"),
    "hide": ({"hidden": True}, "hidden"),
    "show": ({"hidden": False}, "shown again"),
}
OPS = (*ENTRY_OPS, "reword", "delete", "add", "regenerate")


def _messages_of(exc: ValidationError) -> list[str]:
    return [m for field_messages in error_dict(exc).values() for m in field_messages]


class TimelineViewsMixin:
    """For PostmortemAdmin: the timeline table's context and the URL its buttons post to."""

    def timeline_urls(self) -> list:
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path(
                "<path:object_id>/timeline/<str:op>/",
                self.admin_site.admin_view(self.timeline_view),
                name=f"{info}_timeline",
            )
        ]

    def timeline_context(self, request: HttpRequest, postmortem: Postmortem, can_edit: bool) -> dict:
        entries = postmortem_timeline(postmortem, include_hidden=True)
        return {
            "timeline_rows": [
                {
                    "entry": entry,
                    "authored": entry.source == EntrySource.AUTHOR,
                    # What the Reword box starts from: the author's wording, or the generated one.
                    "wording": entry.event
                    if entry.source == EntrySource.AUTHOR
                    else (entry.text or entry.event),
                }
                for entry in entries
            ],
            "timeline_can_edit": can_edit,
            "timeline_urls": {
                op: reverse(
                    f"{self.admin_site.name}:postmortems_postmortem_timeline", args=[postmortem.pk, op]
                )
                for op in OPS
            },
            "timeline_add_form": TimelineAddForm(prefix="timeline") if can_edit else None,
        }

    def timeline_view(self, request: HttpRequest, object_id: str, op: str) -> HttpResponse:
        if op not in OPS:
            raise Http404("No such timeline operation.")
        postmortem = self.get_object(request, unquote(object_id))
        if postmortem is None:
            raise Http404("No such post-mortem.")
        back = (
            reverse(f"{self.admin_site.name}:postmortems_postmortem_change", args=[postmortem.pk])
            + "#timeline"
        )
        if request.method != "POST":
            return HttpResponseRedirect(back)
        if not self.has_change_permission(request, postmortem):
            raise PermissionDenied
        by = admin_actor(request)
        try:
            done = self._timeline_apply(request, postmortem, op, by)
        except ValidationError as exc:
            for message in _messages_of(exc):
                messages.error(request, message)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            if done:
                messages.success(request, done)
        return HttpResponseRedirect(back)

    def _timeline_apply(self, request: HttpRequest, postmortem: Postmortem, op: str, by) -> str:
        if op == "regenerate":
            added = timeline_regenerate(postmortem=postmortem, by=by)
            return (
                f"Timeline regenerated from the incident: {added} new entr{'y' if added == 1 else 'ies'}; "
                "pins, hidden entries and rewording were kept."
            )
        if op == "add":
            form = TimelineAddForm(request.POST, prefix="timeline")
            if not form.is_valid():
                raise ValidationError(
                    [
                        f"{form.fields[f].label if f in form.fields else 'Entry'}: {m}"
                        for f, ms in form.errors.items()
                        for m in ms
                    ]
                )
            timeline_entry_add(postmortem=postmortem, by=by, **form.cleaned_data)
            return "Entry added to the timeline."
        entry_id = str(request.POST.get("entry", ""))
        entry = (
            TimelineEntry.objects.filter(postmortem=postmortem, pk=entry_id).first()
            if entry_id.isdigit()
            else None
        )
        if entry is None:
            raise ValidationError("That timeline entry no longer exists. Reload the page.")
        entry.postmortem = postmortem
        if op == "delete":
            timeline_entry_delete(entry=entry, by=by)
            return "Entry removed from the timeline."
        if op == "reword":
            text = request.POST.get("text", "")
            timeline_entry_update(entry=entry, by=by, text=text)
            if not text.strip():
                return "Entry back to its generated wording."
            return "Entry reworded."
        changes, done = ENTRY_OPS[op]
        timeline_entry_update(entry=entry, by=by, **changes)
        return f"Entry {done}."
