"""Cost in the admin: the hourly rates per team (saved through analytics.services.cost), the
"Cost" panel of the incident page (an inline AnalyticsConfig.ready() adds through
incidents.admin.panels) and the "Cost impact" section of the post-mortem (postmortems.sections).
Both show the breakdown computed live from the record, the one analytics stores."""

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from analytics.cost.record import IncidentCostBreakdown, incident_cost_breakdown
from analytics.models import HourlyRate, IncidentCost
from analytics.services.cost import hourly_rate_delete, hourly_rate_save
from common.actor import Actor
from common.admin.deletes import ServiceDeleteMixin
from common.admin.panel import NoRowsFormSet, once_per_request
from common.admin.services import ServiceSaveMixin, admin_actor, adopt, refusals
from common.forms import ServiceErrorsMixin
from incidents.models import Incident
from postmortems.models import Postmortem

PANEL_TEMPLATE = "admin/analytics/cost_breakdown.html"
VIEW_INCIDENTS = "incidents.view_incident"


def breakdown_html(breakdown: IncidentCostBreakdown, *, element_id: str) -> SafeString:
    return render_to_string(PANEL_TEMPLATE, {"cost": breakdown, "element_id": element_id})


def postmortem_cost_html(postmortem: Postmortem) -> SafeString:
    return breakdown_html(incident_cost_breakdown(postmortem.incident), element_id="postmortem-cost")


def postmortem_cost_markdown(postmortem: Postmortem) -> str:
    cost = incident_cost_breakdown(postmortem.incident)
    rate = f"{cost.rate.rate} {cost.currency}/h ({cost.rate.team or 'default rate'})"
    lines = [
        f"- **Total**: {cost.amount} {cost.currency} for {cost.hours:.2f} person-hours at {rate}"
        + (" (still open: counted to now)" if cost.open else ""),
        f"- **Response**: {cost.responder_hours:.2f} h by {len(cost.responders)} responders",
    ]
    lines += [f"  - {r.name.replace('|', '/')}: {r.hours:.2f} h" for r in cost.responders]
    if cost.meeting_at is not None:
        lines.append(f"- **Review meeting**: {cost.meeting_hours:.2f} h ({cost.meeting_invitees} invitees)")
    return "\n".join(lines)


class CostFormSet(NoRowsFormSet):
    """No rows to edit: the inline only carries the breakdown to its template."""

    cost: IncidentCostBreakdown | None = None


class IncidentCostInline(admin.TabularInline):
    """The incident page's "Cost" panel: responders and their hours, the review meeting, the rate
    and the total."""

    model = IncidentCost
    fk_name = "incident"
    formset = CostFormSet
    template = "admin/analytics/incident_cost_panel.html"
    fields = ()
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name = "cost"
    verbose_name_plural = "Cost"

    def get_formset(self, request: HttpRequest, obj: Incident | None = None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        if obj is None:
            return formset
        cost = once_per_request(request, (type(self), obj.pk), lambda: incident_cost_breakdown(obj))
        return type(formset.__name__, (formset,), {"cost": cost})

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm(VIEW_INCIDENTS)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class HourlyRateForm(ServiceErrorsMixin, forms.ModelForm):
    class Meta:
        model = HourlyRate
        fields = ("team", "rate")


@admin.register(HourlyRate)
class HourlyRateAdmin(ServiceDeleteMixin, ServiceSaveMixin, admin.ModelAdmin):
    """Rates per team; an incident is priced at the rate of the first of its services whose owner
    team is listed here, else at COST_DEFAULT_HOURLY_RATE."""

    form = HourlyRateForm
    list_display = ("team", "rate", "updated_at")
    search_fields = ("team",)
    ordering = ("team",)

    def save_model(self, request: HttpRequest, obj: HourlyRate, form, change: bool) -> None:
        with refusals():
            saved = hourly_rate_save(
                by=admin_actor(request),
                team=form.cleaned_data["team"],
                rate=form.cleaned_data["rate"],
                instance=obj if change else None,
            )
        adopt(obj, saved)

    def delete_object(self, *, by: Actor, obj: HourlyRate) -> None:
        hourly_rate_delete(by=by, rate=obj)
