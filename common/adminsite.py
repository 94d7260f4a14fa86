"""The admin site: its first page is the ops home (common.admin.home's sections above the app
list), incidents come first in the app list and the plumbing (Celery beat, API tokens, the outbox,
login lockouts) sits under "System" at the end."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import Http404, HttpRequest
from django.template.response import TemplateResponse
from django.urls import path, reverse

FIRST_APPS = ("incidents",)
# Whole apps, or single models as "app_label.model_name", that operators rarely need.
SYSTEM = ("django_celery_beat", "axes", "common.apitoken", "common.outboxmessage")
SYSTEM_LABEL = "system"


def _is_system(app_label: str, model: dict) -> bool:
    return app_label in SYSTEM or f"{app_label}.{model['object_name'].lower()}" in SYSTEM


class OpsAdminSite(admin.AdminSite):
    site_header = "Mitigate"
    site_title = "Mitigate"
    index_title = "Incident response"

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict]:
        app_list = super().get_app_list(request, app_label)
        if app_label is not None:  # One app's own page keeps all its models.
            return app_list
        kept, system = [], []
        for app in app_list:
            moved = [m for m in app["models"] if _is_system(app["app_label"], m)]
            system.extend(moved)
            app["models"] = [m for m in app["models"] if m not in moved]
            if app["models"]:
                kept.append(app)
        kept.sort(key=lambda app: app["app_label"] not in FIRST_APPS)  # Stable: the rest stay by name.
        if system:
            system.sort(key=lambda m: m["name"])
            kept.append(
                {
                    "name": "System",
                    "app_label": SYSTEM_LABEL,
                    "app_url": reverse(f"{self.name}:system_index"),
                    "has_module_perms": True,
                    "models": system,
                }
            )
        return kept

    def get_urls(self):
        system = path("system/", self.admin_view(self.system_index), name="system_index")
        return [system, *super().get_urls()]

    def system_index(self, request: HttpRequest) -> TemplateResponse:
        """System's own page, as an app's: "system" is no app label, so the default has no URL."""
        app_list = [app for app in self.get_app_list(request) if app["app_label"] == SYSTEM_LABEL]
        if not app_list:
            raise Http404("The requested admin page does not exist.")
        context = {**self.each_context(request), "title": "System", "subtitle": None, "app_list": app_list}
        request.current_app = self.name
        return TemplateResponse(request, "admin/app_index.html", context)

    def index(self, request: HttpRequest, extra_context: dict | None = None):
        # Imported here: this module loads with INSTALLED_APPS, before any model may be imported.
        from common.admin.home import sections_for

        return super().index(request, {"home_sections": sections_for(request), **(extra_context or {})})


class OpsAdminConfig(AdminConfig):
    """Replaces "django.contrib.admin" in INSTALLED_APPS: admin.site becomes an OpsAdminSite, so
    every @admin.register stays as it is."""

    default_site = "common.adminsite.OpsAdminSite"
