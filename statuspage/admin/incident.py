"""The "Status page" panel of a Mitigate incident's page: its public incident (title, status, last
update, links to its public page and its admin page), or a "Post to the status page" button; once the
incident is resolved and its public incident is not, "Post the resolved update" (never automatic).
Each button leads to a prefilled form in PublicIncidentAdmin; nothing is posted from here."""

from django.http import HttpRequest
from django.urls import reverse

from common.admin.panel import once_per_request
from incidents.admin.inlines import ReadOnlyInline
from incidents.choices import IncidentStatus
from incidents.models import Incident
from postmortems.admin.incident import PanelsFormSet
from statuspage.admin.public_incidents import public_url
from statuspage.choices import ENDED
from statuspage.models import PublicIncident
from statuspage.services.public_incidents import OPEN_PERMISSION, POST_PERMISSION

VIEW_PERMISSION = "statuspage.view_publicincident"


class StatusPanel:
    """What the panel's template reads."""

    def __init__(self, request: HttpRequest, incident: Incident):
        self.incident = incident
        self.public = PublicIncident.objects.filter(incident=incident).first()
        self.last_update = self.public.updates.order_by("-created_at", "-id").first() if self.public else None
        self.open_url = self.post_url = self.resolved_url = self.public_url = self.admin_url = ""
        can_post = request.user.has_perm(POST_PERMISSION)
        if self.public is None:
            if request.user.has_perm(OPEN_PERMISSION):
                self.open_url = f"{reverse('admin:statuspage_publicincident_open')}?incident={incident.pk}"
            return
        self.public_url = public_url(self.public)
        self.admin_url = reverse("admin:statuspage_publicincident_change", args=[self.public.pk])
        post = reverse("admin:statuspage_publicincident_post", args=[self.public.pk])
        if can_post and self.public.status not in ENDED:
            self.post_url = post
            if incident.status in (IncidentStatus.RESOLVED, IncidentStatus.CLOSED):
                self.resolved_url = f"{post}?resolved=1"


class StatusPanelFormSet(PanelsFormSet):
    """No rows: the inline only carries the panel to its template."""

    panel: StatusPanel | None = None


class IncidentStatusPageInline(ReadOnlyInline):
    model = PublicIncident
    fk_name = "incident"
    formset = StatusPanelFormSet
    template = "admin/statuspage/incident_panel.html"
    fields = ()
    max_num = 0
    verbose_name = "status page"
    verbose_name_plural = "Status page"

    def get_formset(self, request: HttpRequest, obj: Incident | None = None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        if obj is None:
            return formset
        panel = once_per_request(request, (type(self), obj.pk), lambda: StatusPanel(request, obj))
        return type(formset.__name__, (formset,), {"panel": panel})

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm(VIEW_PERMISSION) or request.user.has_perm(OPEN_PERMISSION)
