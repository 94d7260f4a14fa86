"""Alerts, read-only: what came in, what rules matched and why, what processing did. People open
an incident from an alert through alert_incident_create (the "create incident" form, or the list
action for several at once); nothing else here writes."""

import json

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from actions.admin.base import run_status_badge
from alerts.admin.base import CSS, alert_status_badge, key_value_table
from alerts.admin.create_incident import create_incident_url, create_incident_view
from alerts.models import Alert, AlertPayload
from alerts.services.processing import alert_incident_create, alerts_processing_retry
from common.admin.services import admin_actor
from common.exceptions import ApplicationError

INCIDENT_ADD = "incidents.add_incident"
ALERT_CHANGE = "alerts.change_alert"


class SilencedFilter(admin.SimpleListFilter):
    title = "silenced"
    parameter_name = "silenced"

    def lookups(self, request, model_admin):
        return (("yes", "Silenced"), ("no", "Not silenced"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(silenced_by__isnull=False)
        if self.value() == "no":
            return queryset.filter(silenced_by__isnull=True)
        return queryset


class ProcessingFilter(admin.SimpleListFilter):
    title = "processing"
    parameter_name = "processing"

    def lookups(self, request, model_admin):
        return (("done", "Processed"), ("pending", "Pending"), ("failed", "Failed"))

    def queryset(self, request, queryset):
        if self.value() == "done":
            return queryset.filter(processed=True)
        if self.value() == "pending":
            return queryset.filter(processed=False, processing_failed_at__isnull=True)
        if self.value() == "failed":
            return queryset.filter(processed=False, processing_failed_at__isnull=False)
        return queryset


def _link(urlname: str, obj, text=None) -> str:
    if obj is None:
        return "-"
    return format_html('<a href="{}">{}</a>', reverse(urlname, args=[obj.pk]), text or str(obj))


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "status_badge",
        "processing_state",
        "severity",
        "source",
        "service",
        "incident_link",
        "occurrence_count",
        "last_received_at",
    )
    list_filter = ("status", "source", "service", SilencedFilter, ProcessingFilter)
    list_select_related = ("source", "service", "incident")
    search_fields = ("name", "=fingerprint")
    date_hierarchy = "received_at"
    show_full_result_count = False
    list_per_page = 50
    actions = ("create_incident", "retry_processing")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("name", "status_badge", "severity"),
                    ("source", "service", "incident_link"),
                    "fingerprint",
                    ("starts_at", "ends_at"),
                    ("received_at", "last_received_at", "occurrence_count", "replays"),
                    "generator_link",
                    "payload_link",
                )
            },
        ),
        ("Labels", {"fields": ("labels_table", "annotations_table")}),
        (
            "Processing",
            {
                "fields": (
                    ("processing_state", "processed_at"),
                    ("processing_attempts", "processing_failed_at"),
                    "processing_error_text",
                    "silence_link",
                    "matches_list",
                    ("rule_link", "group_key"),
                    "notes_list",
                    "runs_table",
                )
            },
        ),
    )
    readonly_fields = (
        "name",
        "status_badge",
        "severity",
        "source",
        "service",
        "incident_link",
        "fingerprint",
        "starts_at",
        "ends_at",
        "received_at",
        "last_received_at",
        "occurrence_count",
        "replays",
        "generator_link",
        "payload_link",
        "labels_table",
        "annotations_table",
        "processing_state",
        "processed_at",
        "processing_attempts",
        "processing_failed_at",
        "processing_error_text",
        "silence_link",
        "matches_list",
        "rule_link",
        "group_key",
        "notes_list",
        "runs_table",
    )

    class Media:
        css = {"all": CSS}

    # Alerts arrive through the webhook and change through processing: the admin only reads them.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Alert | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Alert | None = None) -> bool:
        return False

    def has_create_incident_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(INCIDENT_ADD)

    def has_retry_processing_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(ALERT_CHANGE)

    def get_urls(self):
        own = [
            path(
                "<path:object_id>/create-incident/",
                self.admin_site.admin_view(self.create_incident_view),
                name="alerts_alert_create_incident",
            )
        ]
        # Before the defaults, whose "<path:object_id>/" would swallow it.
        return own + super().get_urls()

    def create_incident_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return create_incident_view(self, request, object_id)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request)
        if request.resolver_match and request.resolver_match.url_name.endswith("_change"):
            qs = qs.select_related("source", "service", "incident", "silenced_by", "rule", "payload")
        return qs

    # --- List --------------------------------------------------------------------------------------

    @admin.display(description="Alert", ordering="name")
    def title(self, obj: Alert) -> str:
        return obj.name or obj.fingerprint

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Alert) -> str:
        return alert_status_badge(obj.status)

    @admin.display(description="Incident", ordering="incident")
    def incident_link(self, obj: Alert) -> str:
        incident = obj.incident
        if incident is None:
            # The form checks the permission; a row links to it whoever reads the list.
            return format_html(
                '<a href="{}" class="alert-create-incident">Create incident…</a>', create_incident_url(obj)
            )
        return _link("admin:incidents_incident_change", incident, incident.reference)

    @admin.display(description="Processing", ordering="processed")
    def processing_state(self, obj: Alert) -> str:
        """Quiet when done; a badge when waiting, a red one when it failed (the error as its title)."""
        if obj.processed:
            return "✓"
        if obj.processing_failed_at is not None:
            return format_html(
                '<span class="mitigate-badge run-status run-failed" title="{}">Failed ({} attempts)</span>',
                obj.processing_error,
                obj.processing_attempts,
            )
        return format_html('<span class="mitigate-badge run-status run-pending">{}</span>', "Pending")

    # --- Detail ------------------------------------------------------------------------------------

    @admin.display(description="Processing error")
    def processing_error_text(self, obj: Alert) -> str:
        if not obj.processing_error:
            return "-"
        return format_html('<pre class="mitigate-monospace mitigate-warning">{}</pre>', obj.processing_error)

    @admin.display(description="Generator")
    def generator_link(self, obj: Alert) -> str:
        if not obj.generator_url:
            return "-"
        if obj.generator_url.startswith(("http://", "https://")):
            return format_html('<a href="{0}" rel="noopener noreferrer">{0}</a>', obj.generator_url)
        return obj.generator_url

    @admin.display(description="Raw payload")
    def payload_link(self, obj: Alert) -> str:
        if obj.payload_id is None:
            return "-"
        return format_html(
            '<a href="{}">Payload #{}</a>',
            reverse("admin:alerts_alertpayload_change", args=[obj.payload_id]),
            obj.payload_id,
        )

    @admin.display(description="Labels")
    def labels_table(self, obj: Alert) -> str:
        return key_value_table(obj.labels)

    @admin.display(description="Annotations")
    def annotations_table(self, obj: Alert) -> str:
        return key_value_table(obj.annotations)

    @admin.display(description="Silenced by")
    def silence_link(self, obj: Alert) -> str:
        if obj.silenced_by_id is None:
            return "Not silenced"
        return _link("admin:alerts_silence_change", obj.silenced_by)

    @admin.display(description="Incident rule")
    def rule_link(self, obj: Alert) -> str:
        return _link("admin:alerts_alertrule_change", obj.rule)

    @admin.display(description="Rules matched")
    def matches_list(self, obj: Alert) -> str:
        if not obj.matches:
            return "None"
        items = []
        for match in obj.matches:
            reasons = format_html_join("", "<li>{}</li>", ((r,) for r in match.get("reasons") or []))
            url = (
                reverse("admin:alerts_alertrule_change", args=[match.get("rule")])
                if match.get("rule")
                else ""
            )
            name = (
                format_html('<a href="{}">{}</a>', url, match.get("name", ""))
                if url
                else match.get("name", "")
            )
            items.append(format_html("<li><strong>{}</strong><ul>{}</ul></li>", name, reasons))
        return format_html(
            '<ol class="alert-matches">{}</ol>', format_html_join("", "{}", ((i,) for i in items))
        )

    @admin.display(description="Notes")
    def notes_list(self, obj: Alert) -> str:
        if not obj.notes:
            return "None"
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((n,) for n in obj.notes)))

    @admin.display(description="Triggered runs")
    def runs_table(self, obj: Alert) -> str:
        triggered = list(obj.triggered_runs.select_related("response__action", "run"))
        if not triggered:
            return "None"
        rows = []
        for t in triggered:
            if t.run_id is not None:
                run = format_html(
                    '<a href="{}">Run #{}</a> {}',
                    reverse("admin:actions_actionrun_change", args=[t.run_id]),
                    t.run_id,
                    run_status_badge(t.run.status),
                )
            else:
                run = format_html('<span class="mitigate-warning">{}</span>', t.error or "No run")
            rows.append((str(t.response.action) if t.response else "(deleted response)", t.trigger, run))
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
        return format_html(
            "<table><thead><tr><th>Action</th><th>Trigger</th><th>Run</th></tr></thead><tbody>{}</tbody></table>",
            body,
        )

    # --- Admin action ------------------------------------------------------------------------------

    @admin.action(description="Create incident from alert", permissions=["create_incident"])
    def create_incident(self, request: HttpRequest, queryset: QuerySet) -> None:
        by = admin_actor(request)
        for alert in queryset:
            label = alert.name or alert.fingerprint
            try:
                incident = alert_incident_create(alert=alert, by=by)
            except ApplicationError as exc:
                messages.error(request, f"{label}: {exc.message}")
            else:
                messages.success(
                    request,
                    format_html(
                        '{}: opened <a href="{}">{}</a>.',
                        label,
                        reverse("admin:incidents_incident_change", args=[incident.pk]),
                        incident.reference,
                    ),
                )

    @admin.action(description="Retry processing of failed alerts", permissions=["retry_processing"])
    def retry_processing(self, request: HttpRequest, queryset: QuerySet) -> None:
        try:
            retried = alerts_processing_retry(
                alert_ids=list(queryset.values_list("pk", flat=True)), by=admin_actor(request)
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return
        if retried:
            messages.success(request, f"{retried} failed alert(s) queued for processing again.")
        else:
            messages.warning(request, "None of the selected alerts had failed processing.")


@admin.register(AlertPayload)
class AlertPayloadAdmin(admin.ModelAdmin):
    """Request bodies as the sources posted them, to audit what arrived."""

    list_display = ("__str__", "source", "received_at", "alert_count")
    list_filter = ("source",)
    list_select_related = ("source",)
    date_hierarchy = "received_at"
    show_full_result_count = False
    fields = ("source", "received_at", "alert_count", "body_pretty")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="Body")
    def body_pretty(self, obj: AlertPayload) -> str:
        return format_html(
            '<pre class="mitigate-monospace">{}</pre>', json.dumps(obj.body, indent=2, ensure_ascii=False)
        )
