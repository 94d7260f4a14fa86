"""The acknowledge link of a page (GET shows, POST acknowledges). Server-rendered, no script. The
token is the path: responses are never cached and send no Referer, and config/logging.py cuts it
out of request logs."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from common.exceptions import ApplicationError, PermissionDeniedError, TransitionNotAllowedError
from incidents.choices import IncidentStatus
from oncall.acklinks import AckLinkInvalidError
from oncall.selectors import (
    AckLink,
    ack_link_open,
    ack_link_paged_user,
    incident_acknowledged_by,
    page_notified,
)
from oncall.services.acks import AckRefusedError, ack_link_acknowledge

TEMPLATE = "oncall/ack.html"


@never_cache
@require_http_methods(["GET", "POST"])
def ack(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = ack_link_open(token=token)
    except AckLinkInvalidError as error:
        return _page(request, None, status=400, error=str(error))
    signed_in = request.user.is_authenticated
    if not signed_in and not (link.claim.one_click and settings.ONCALL_SMS_ONE_CLICK_ACK):
        return redirect_to_login(request.get_full_path(), login_url=reverse("admin:login"))
    if signed_in and not _may_see(request, link):
        return _page(request, None, status=403, error="You may not view incidents.")
    if request.method == "GET":
        return _page(request, link)
    try:
        incident = ack_link_acknowledge(token=token, user=request.user if signed_in else None)
    except AckLinkInvalidError as error:
        return _page(request, None, status=400, error=str(error))
    except PermissionDeniedError as error:
        return _page(request, link, status=403, error=error.message)
    except AckRefusedError as error:
        if error.code == "login_required":
            return redirect_to_login(request.get_full_path(), login_url=reverse("admin:login"))
        return _page(request, link, status=403, error=error.message)
    except TransitionNotAllowedError:
        return _page(request, ack_link_open(token=token), status=409)
    except ApplicationError as error:  # a lost race: someone changed the incident meanwhile
        return _page(request, ack_link_open(token=token), status=409, error=error.message)
    return _page(request, ack_link_open(token=token), done=f"You acknowledged {incident.reference}.")


def _may_see(request: HttpRequest, link: AckLink) -> bool:
    # The person paged may always see what they were paged for; anyone else needs to read incidents.
    return request.user.pk == link.claim.user_id or request.user.has_perm("incidents.view_incident")


def _page(
    request: HttpRequest, link: AckLink | None, *, status: int = 200, error: str = "", done: str = ""
) -> HttpResponse:
    context = {"error": error, "done": done}
    if link is not None:
        incident = link.page.incident
        context |= {
            "page": link.page,
            "incident": incident,
            "paged_user": ack_link_paged_user(link=link),
            "notified": page_notified(page=link.page),
            "acknowledged_by": ""
            if incident.status == IncidentStatus.NEW
            else incident_acknowledged_by(incident=incident),
            "can_acknowledge": incident.status == IncidentStatus.NEW,
            "ended": incident.status in (IncidentStatus.RESOLVED, IncidentStatus.CLOSED),
            "signed_in_as": request.user if request.user.is_authenticated else None,
        }
    response = render(request, TEMPLATE, context, status=status)
    response["Referrer-Policy"] = "no-referrer"
    return response
