from django.utils.html import format_html

from statuspage.choices import ComponentStatus, PublicStatus

COLOURS = {
    ComponentStatus.OPERATIONAL: "#067647",
    ComponentStatus.DEGRADED: "#b54708",
    ComponentStatus.PARTIAL_OUTAGE: "#c4320a",
    ComponentStatus.MAJOR_OUTAGE: "#b42318",
    ComponentStatus.MAINTENANCE: "#175cd3",
    PublicStatus.RESOLVED: "#067647",
    PublicStatus.COMPLETED: "#067647",
}


def status_badge(value: str, label: str) -> str:
    colour = COLOURS.get(value, "#475467")
    return format_html(
        '<span class="statuspage-badge" style="color:#fff;background:{};padding:1px 6px;border-radius:8px">'
        "{}</span>",
        colour,
        label,
    )
