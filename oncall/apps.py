from django.apps import AppConfig


class OncallConfig(AppConfig):
    name = "oncall"
    verbose_name = "On-call"

    def ready(self) -> None:
        from incidents.admin import panels
        from oncall.admin.incident import IncidentPageInline

        panels.inline_register("oncall", IncidentPageInline, order=340)
