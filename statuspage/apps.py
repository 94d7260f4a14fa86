from django.apps import AppConfig


class StatuspageConfig(AppConfig):
    name = "statuspage"
    verbose_name = "Status page"

    def ready(self) -> None:
        from common.events import listener_register
        from incidents.admin import panels
        from statuspage.admin.incident import IncidentStatusPageInline
        from statuspage.events import happening_heard

        listener_register("statuspage", happening_heard)
        panels.inline_register("statuspage", IncidentStatusPageInline, order=360)
