"""The incident page's Runbooks panel as alerts completes it: besides the services' runbooks, those
its alerts' rules name, and `{{ alert.* }}` in the steps' parameter mappings filled from its latest
alert (the same context an automated response's mapping reads, alerts.response_parameters)."""

from typing import Any

from actions.admin.runbooks_panel import IncidentRunbooksInline, incident_context
from alerts.models import Alert
from alerts.response_parameters import alert_context
from incidents.models import Incident


class IncidentRunbooksWithRulesInline(IncidentRunbooksInline):
    def named_runbook_ids(self, incident: Incident) -> list[int]:
        return list(
            Alert.objects.filter(incident=incident, rule__runbook__isnull=False)
            .values_list("rule__runbook_id", flat=True)
            .distinct()
        )

    def context_for(self, incident: Incident) -> dict[str, Any]:
        latest = (
            Alert.objects.filter(incident=incident)
            .select_related("source")
            .order_by("-received_at", "-id")
            .first()
        )
        return alert_context(latest, incident) if latest is not None else incident_context(incident)
