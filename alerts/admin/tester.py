"""The rule tester: paste a payload, see for each alert in it which rules match and why, whether a
silence covers it, and what processing would do, with the responses' parameters rendered. It only
reads (alerts.selectors.rules_preview): nothing is stored, triggered or enqueued."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse

from alerts.admin.base import alert_status_badge
from alerts.admin.forms import RuleTestForm
from alerts.choices import ResponseTrigger
from alerts.parsers import PayloadError
from alerts.selectors import rules_preview


def rule_tester_view(model_admin, request: HttpRequest) -> HttpResponse:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    previews = None
    if request.method == "POST":
        form = RuleTestForm(request.POST)
        if form.is_valid():
            try:
                previews = rules_preview(
                    kind=form.cleaned_data["kind"],
                    raw=form.cleaned_data["payload"],
                    source=form.cleaned_data["source"],
                )
            except PayloadError as exc:
                form.add_error("payload", f"The {form.cleaned_data['kind']} parser refused it: {exc}")
    else:
        form = RuleTestForm()
    results = []
    for preview in previews or []:
        results.append(
            {
                "preview": preview,
                "status": alert_status_badge(preview.status),
                "labels": sorted(preview.labels.items()),
                "matches": [
                    {
                        "rule": match.rule,
                        "url": reverse("admin:alerts_alertrule_change", args=[match.rule.pk]),
                        "reasons": match.reasons,
                    }
                    for match in preview.matches
                ],
                "silence_url": (
                    reverse("admin:alerts_silence_change", args=[preview.silence.pk])
                    if preview.silence
                    else None
                ),
                "responses": [
                    {
                        "response": response,
                        "trigger": _trigger_text(response.trigger, response.delay_seconds),
                        "parameters": sorted((response.parameters or {}).items()),
                    }
                    for response in preview.responses
                ],
            }
        )
    request.current_app = model_admin.admin_site.name
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Test alert rules",
        "subtitle": None,
        "opts": model_admin.opts,
        "media": model_admin.media + form.media,
        "form": form,
        "tested": previews is not None,
        "results": results,
        "changelist_url": reverse("admin:alerts_alertrule_changelist"),
    }
    return TemplateResponse(request, "admin/alerts/alertrule/test.html", context)


def _trigger_text(trigger: str, delay_seconds: int) -> str:
    if trigger == ResponseTrigger.AFTER_DELAY:
        return f"after {delay_seconds} s unless resolved"
    if trigger == ResponseTrigger.AFTER_APPROVAL:
        return "after an approver approves"
    return "immediately"
