"""What the actions admin pages share: their stylesheets, badges and small display helpers. The
service-backed save plumbing they use is common.admin.services."""

from django.utils.html import format_html
from django.utils.safestring import SafeString

from actions.choices import Risk, RunStatus, StepStatus

# Badges come from the incidents stylesheet; the actions one adds run colours and run pages.
CSS = ("incidents/admin.css", "actions/admin.css")


def run_status_badge(status: str) -> SafeString:
    return format_html(
        '<span class="mitigate-badge run-status run-{}">{}</span>', status, RunStatus(status).label
    )


def step_status_badge(status: str) -> SafeString:
    return format_html(
        '<span class="mitigate-badge run-status step-{}">{}</span>', status, StepStatus(status).label
    )


def risk_badge(risk: str) -> SafeString:
    label = "High risk" if risk == Risk.HIGH else "Low risk"
    return format_html('<span class="mitigate-badge risk-{}">{}</span>', risk, label)
