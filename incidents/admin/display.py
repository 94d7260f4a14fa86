"""Badges for priorities and statuses, styled by incidents/static/incidents/admin.css."""

from django.utils.html import format_html
from django.utils.safestring import SafeString

from incidents.choices import IncidentStatus
from incidents.models import Priority

CSS = "incidents/admin.css"


def priority_badge(priority: Priority | str) -> SafeString:
    code = priority if isinstance(priority, str) else priority.code
    title = "" if isinstance(priority, str) else priority.name
    return format_html(
        '<span class="mitigate-badge priority-{}" title="{}">{}</span>', code.lower(), title, code
    )


def status_badge(status: str) -> SafeString:
    return format_html(
        '<span class="mitigate-badge status status-{}">{}</span>', status, IncidentStatus(status).label
    )
