"""Plain Django views shared by the whole site."""

from axes.helpers import get_client_username, get_cool_off
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness probe for load balancers and orchestrators: the process answers requests. It touches
    neither the database nor the cache, so a slow dependency does not get healthy workers killed."""
    return JsonResponse({"ok": True})


def login_locked_out(
    request: HttpRequest, original_response=None, credentials: dict | None = None
) -> HttpResponse:
    """django-axes calls this when a login is refused by lockout: the admin's login page again,
    saying why and for how long, with 429 and Retry-After."""
    cool_off = get_cool_off(request)
    minutes = max(1, int(cool_off.total_seconds() // 60)) if cool_off else None
    message = "Too many failed logins for this username from your address: logging in is locked"
    message += f" for {minutes} minutes." if minutes else " until an administrator unlocks it."
    message += " An administrator can unlock it now under Axes > Access attempts."
    context = {
        **admin.site.each_context(request),
        "title": "Log in",
        "app_path": request.get_full_path(),
        "form": AdminAuthenticationForm(
            request, initial={"username": get_client_username(request, credentials)}
        ),
        "next": request.POST.get("next") or reverse("admin:index"),
        "lockout_message": message,
    }
    response = TemplateResponse(request, "admin/login.html", context, status=429)
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    # Returned from middleware, after the point where Django renders template responses.
    return response.render()
