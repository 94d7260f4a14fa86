"""What the actions admin pages share: their stylesheets, badges and small display helpers. The
service-backed save plumbing they use is common.admin.services."""

from datetime import timedelta

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


def duration_text(value: timedelta | None) -> str:
    """1.2 s, 45 s, 3 min 5 s, 2 h 10 min; "-" for none."""
    if value is None:
        return "-"
    seconds = value.total_seconds()
    if seconds < 10:
        return f"{seconds:.1f} s"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
