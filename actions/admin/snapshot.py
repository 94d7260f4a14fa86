"""The incident page's "Snapshot" panel: each service's state capture taken when the incident
opened, with its status and every step's output; a capture that failed, or could not even be
requested, is shown as failed with its error."""

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse

from actions.admin.base import run_status_badge
from actions.models import ActionRun
from actions.selectors import Snapshot, incident_snapshots
from common.admin.panel import PanelInline
from incidents.models import Incident


@dataclass(frozen=True)
class SnapshotRow:
    snapshot: Snapshot
    badge: str
    url: str


class IncidentSnapshotInline(PanelInline):
    model = ActionRun
    fk_name = "incident"
    template = "admin/actions/incident_snapshot.html"
    verbose_name = "snapshot"
    verbose_name_plural = "Snapshot"
    view_permission = "actions.view_actionrun"

    class Media:
        css = {"all": ("actions/admin.css",)}

    def panel_for(self, request: HttpRequest, incident: Incident) -> list[SnapshotRow]:
        return [
            SnapshotRow(
                snapshot=snapshot,
                badge=run_status_badge(snapshot.run.status) if snapshot.run else "",
                url=reverse("admin:actions_actionrun_change", args=[snapshot.run.pk]) if snapshot.run else "",
            )
            for snapshot in incident_snapshots(incident_id=incident.pk)
        ]
