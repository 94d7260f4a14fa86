"""Create incident from alert: a form prefilled from the alert (title, priority from the rule or the
severity, services from the rule, description from annotations and labels) that the responder
adjusts before alert_incident_create opens the incident. An alert already in an incident gets a
clear refusal with a link to that incident instead of the form."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from alerts.admin.forms import AlertIncidentForm
from alerts.incident_prefill import alert_incident_prefill
from alerts.models import Alert
from alerts.services.processing import alert_incident_create
from common.admin.services import admin_actor, form_errors_from
from common.exceptions import ConflictError, PermissionDeniedError

INCIDENT_ADD = "incidents.add_incident"


def create_incident_url(alert: Alert) -> str:
    return reverse("admin:alerts_alert_create_incident", args=[alert.pk])


def create_incident_view(model_admin, request: HttpRequest, object_id: str) -> HttpResponse:
    if not request.user.has_perm(INCIDENT_ADD):
        raise PermissionDenied
    alert = Alert.objects.select_related("source", "service", "incident").filter(pk=_pk(object_id)).first()
    if alert is None:
        raise Http404("No such alert.")
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": f"Create incident from alert {alert.name or alert.fingerprint}",
        "subtitle": None,
        "alert": alert,
        "alert_url": reverse("admin:alerts_alert_change", args=[alert.pk]),
        "changelist_url": reverse("admin:alerts_alert_changelist"),
    }
    request.current_app = model_admin.admin_site.name
    if alert.incident is not None:
        return _refusal(request, context, alert.incident)

    prefill = alert_incident_prefill(alert=alert)
    initial = {"title": prefill.title, "priority": prefill.priority, "description": prefill.description}
    form = AlertIncidentForm(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_valid():
        data = form.cleaned_data
        try:
            incident = alert_incident_create(
                alert=alert,
                by=admin_actor(request),
                title=data["title"],
                description=data["description"],
                priority=data["priority"],
                assignee=data["assignee"],
            )
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.message) from exc
        except ConflictError:
            # Someone (or processing) put it in an incident since the page was opened.
            alert.refresh_from_db(fields=["incident"])
            return _refusal(request, context, alert.incident)
        except ValidationError as exc:
            form_errors_from(form, exc)
        else:
            messages.success(request, f"Opened {incident.reference} from this alert.")
            return HttpResponseRedirect(reverse("admin:incidents_incident_change", args=[incident.pk]))
    context.update(
        form=form,
        media=model_admin.media + form.media,
        prefill=prefill,
        rule_url=reverse("admin:alerts_alertrule_change", args=[prefill.rule.pk]) if prefill.rule else None,
    )
    return TemplateResponse(request, "admin/alerts/alert/create_incident.html", context)


def _pk(object_id: str) -> int:
    try:
        return int(object_id)
    except ValueError:
        raise Http404("No such alert.") from None


def _refusal(request: HttpRequest, context: dict, incident) -> HttpResponse:
    context.update(
        incident=incident,
        incident_url=reverse("admin:incidents_incident_change", args=[incident.pk]),
    )
    # Shown on opening the page, and as the answer to a POST that lost the race.
    status = 409 if request.method == "POST" else 200
    return TemplateResponse(request, "admin/alerts/alert/create_incident.html", context, status=status)
