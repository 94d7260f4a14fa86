"""How the post-mortem admin shows what is not edited as typed: the list's columns, the incident's
facts (duration, detection, first alert), the review and publication emails' state, and the five
whys and supporting links of a read-only page."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from common.formatting import duration_hours_minutes
from incidents.admin.display import priority_badge
from postmortems.admin.base import postmortem_status_badge
from postmortems.choices import PublicationEmail
from postmortems.models import Postmortem
from postmortems.selectors import detection_facts, incident_duration


def _names(users) -> str:
    return ", ".join(u.get_full_name() or u.get_username() for u in users) or "-"


class PostmortemDisplayMixin:
    """The read-only fields and list columns of PostmortemAdmin."""

    @admin.display(description="Post-mortem", ordering="incident__reference")
    def postmortem(self, obj: Postmortem) -> str:
        return format_html("<strong>{}</strong> {}", obj.incident.reference, obj.incident.title)

    @admin.display(description="Incident")
    def incident_link(self, obj: Postmortem) -> str:
        url = reverse("admin:incidents_incident_change", args=[obj.incident_id])
        return format_html('<a href="{}">{}</a> {}', url, obj.incident.reference, obj.incident.title)

    @admin.display(description="Invitation email")
    def review_invitation_state(self, obj: Postmortem) -> str:
        if obj.review_at is None:
            return "-"
        if not obj.review_invitation_pending:
            return "Sent"
        state = "Pending (sent by the next worker or the sweeper)"
        if obj.review_invitation_error:
            state = f"{state}; last attempt failed: {obj.review_invitation_error}"
        return state

    @admin.display(description="Publication email")
    def publication_email_state(self, obj: Postmortem) -> str:
        if obj.publication_email == PublicationEmail.SENT:
            return f"Sent to {len(obj.published_to)} address(es): {', '.join(obj.published_to)}"
        if obj.publication_email == PublicationEmail.PENDING and obj.publication_error:
            return f"Pending; last attempt failed: {obj.publication_error}"
        return obj.get_publication_email_display() if obj.publication_email else "-"

    @admin.display(description="Severity", ordering="severity")
    def severity_badge(self, obj: Postmortem) -> str:
        return priority_badge(obj.severity) if obj.severity else "-"

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Postmortem) -> str:
        return postmortem_status_badge(obj.status)

    @admin.display(description="Authors")
    def author_names(self, obj: Postmortem) -> str:
        return _names(obj.authors.all())

    @admin.display(description="Attendees")
    def attendee_names(self, obj: Postmortem) -> str:
        return _names(obj.review_attendees.all())

    @admin.display(description="Duration")
    def impact_duration(self, obj: Postmortem) -> str:
        incident = obj.incident
        return f"{duration_hours_minutes(incident_duration(incident)) or 'unresolved'} (onset to resolution)"

    @admin.display(description="Time to detect")
    def time_to_detect(self, obj: Postmortem) -> str:
        return f"{duration_hours_minutes(detection_facts(obj.incident).time_to_detect)} after onset"

    @admin.display(description="First alert")
    def first_alert(self, obj: Postmortem) -> str:
        alert = detection_facts(obj.incident).first_alert
        if alert is None:
            return "None: opened by a person"
        url = reverse("admin:alerts_alert_change", args=[alert.pk])
        return format_html(
            '<a href="{}">{}</a> from {}', url, alert.name or alert.fingerprint, alert.source.name
        )

    @admin.display(description="Five whys")
    def whys_display(self, obj: Postmortem) -> str:
        if not obj.five_whys:
            return "-"
        rows = format_html_join(
            "",
            "<li><strong>{}</strong><br>{}</li>",
            ((w.get("question", ""), w.get("answer", "")) for w in obj.five_whys),
        )
        return format_html('<ol class="pm-whys">{}</ol>', rows)

    @admin.display(description="Supporting links")
    def links_display(self, obj: Postmortem) -> str:
        if not obj.supporting_links:
            return "-"
        rows = format_html_join(
            "",
            '<li><a href="{}" rel="noopener noreferrer">{}</a></li>',
            (
                (link.get("url", ""), link.get("title") or link.get("url", ""))
                for link in obj.supporting_links
            ),
        )
        return format_html("<ul>{}</ul>", rows)
