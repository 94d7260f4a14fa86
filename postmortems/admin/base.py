"""What the post-mortem admin pages share: the acting user and service refusals shown as form errors
(from the actions admin, so every app behaves alike), badges, and the page a button leads to when it
needs input (a reason, a time, a confirmation)."""

from dataclasses import dataclass

from django import forms
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from actions.admin.base import (
    ServiceRefusedError,
    ServiceSaveMixin,
    admin_actor,
    adopt,
    error_dict,
    refusals,
    service_refusal,
)
from incidents.admin.display import priority_badge
from postmortems.choices import ActionItemStatus, PostmortemStatus

# Badges come from the incidents stylesheet; templates/admin/postmortems/_style.html adds colours.
CSS = ("incidents/admin.css", "actions/admin.css")

__all__ = [
    "CSS",
    "ServiceRefusedError",
    "ServiceSaveMixin",
    "admin_actor",
    "adopt",
    "error_dict",
    "form_errors_from",
    "item_status_badge",
    "postmortem_status_badge",
    "priority_badge",
    "refusals",
    "render_page",
    "service_refusal",
]


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    done: str  # "<the thing> was <done>."
    explanation: str
    needs_input: bool = False
    danger: bool = False


class SeenStatusForm(forms.Form):
    """A one-click transition: the status the page showed, so a stale page gets a conflict."""

    seen_status = forms.CharField(widget=forms.HiddenInput, required=False)


class ReasonForm(SeenStatusForm):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), required=False)

    def __init__(self, *args, reason_required: bool = False, reason_help: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = reason_required
        self.fields["reason"].help_text = reason_help


def postmortem_status_badge(status: str) -> SafeString:
    label = PostmortemStatus(status).label if status in PostmortemStatus.values else status
    return format_html('<span class="mitigate-badge status pm-status pm-{}">{}</span>', status, label)


def item_status_badge(status: str) -> SafeString:
    label = ActionItemStatus(status).label if status in ActionItemStatus.values else status
    return format_html('<span class="mitigate-badge status pm-item pm-item-{}">{}</span>', status, label)


def form_errors_from(form: forms.Form, exc) -> None:
    """Attach a service's ValidationError to a form: its fields where they match, else on top."""
    for field, messages in error_dict(exc).items():
        form.add_error(field if field in form.fields else None, messages)


def render_page(request: HttpRequest, admin, context: dict) -> HttpResponse:
    """The small form page a button leads to (templates/admin/postmortems/page.html)."""
    context = {
        **admin.admin_site.each_context(request),
        "opts": admin.opts,
        "subtitle": None,
        "media": admin.media + context["form"].media if context.get("form") else admin.media,
        **context,
    }
    request.current_app = admin.admin_site.name
    return TemplateResponse(request, "admin/postmortems/page.html", context)
