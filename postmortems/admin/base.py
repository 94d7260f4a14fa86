"""What the post-mortem admin pages share: badges, the forms of their transition pages, and the page
scheduling the review or creating a post-mortem leads to. The acting user, service refusals and the
transition page itself come from common.admin, as in every app."""

from django import forms
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from postmortems.choices import ActionItemStatus, PostmortemStatus

# Badges come from the incidents stylesheet; templates/admin/postmortems/_style.html adds colours.
CSS = ("incidents/admin.css", "actions/admin.css")


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


def render_page(request: HttpRequest, admin, context: dict) -> HttpResponse:
    """The small form page that scheduling the review or creating a post-mortem leads to
    (templates/admin/postmortems/page.html)."""
    context = {
        **admin.admin_site.each_context(request),
        "opts": admin.opts,
        "subtitle": None,
        "media": admin.media + context["form"].media if context.get("form") else admin.media,
        **context,
    }
    request.current_app = admin.admin_site.name
    return TemplateResponse(request, "admin/postmortems/page.html", context)
