"""What the drills admin pages show of a run: its status and its timings."""

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from drills.choices import DrillStatus
from drills.markdown import TIMING_LABELS, duration_text
from drills.models import DrillRun
from drills.selectors import drill_incident, drill_timings

COLOURS = {DrillStatus.RUNNING: "#ca8a04", DrillStatus.COMPLETED: "#15803d", DrillStatus.CANCELLED: "#6b7280"}


def status_badge(status: str) -> SafeString:
    return format_html(
        '<span style="color:#fff;background:{};padding:1px 6px;border-radius:8px;">{}</span>',
        COLOURS.get(status, "#6b7280"),
        DrillStatus(status).label,
    )


def incident_link(run: DrillRun) -> SafeString | str:
    incident = drill_incident(run)
    if incident is None:
        return "not opened yet" if run.status == DrillStatus.RUNNING else "-"
    url = reverse("admin:incidents_incident_change", args=[incident.pk])
    return format_html('<a href="{}">{}</a> ({})', url, incident.reference, incident.get_status_display())


def timings_table(run: DrillRun) -> SafeString:
    timings = drill_timings(run)
    rows = format_html_join(
        "",
        '<tr><th>{}</th><td data-timing="{}">{}</td></tr>',
        ((label, name, duration_text(getattr(timings, name))) for name, label in TIMING_LABELS.items()),
    )
    return format_html('<table class="drill-timings">{}</table>', rows)
