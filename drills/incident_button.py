"""The "Drill" button on a drill incident's page: to its drill's report once the drill ended, to
the drill itself (timings, Cancel) while it runs."""

from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse

from drills.models import DrillReport, DrillRun
from incidents.models import Incident


def drill_url(request: HttpRequest, incident: Incident) -> str | None:
    if not incident.is_drill or not request.user.has_perm("drills.view_drillrun"):
        return None
    run = (
        DrillRun.objects.filter(Q(incident=incident) | Q(alert__incident=incident))
        .select_related("report")
        .order_by("-started_at", "-id")
        .first()
    )
    if run is None:
        return None
    try:
        return reverse("admin:drills_drillreport_change", args=[run.report.pk])
    except DrillReport.DoesNotExist:
        return reverse("admin:drills_drillrun_change", args=[run.pk])
