from django.apps import AppConfig


class OncallConfig(AppConfig):
    name = "oncall"
    verbose_name = "On-call"

    def ready(self) -> None:
        from common.events import listener_register
        from incidents.admin import panels
        from oncall.admin import home
        from oncall.admin.incident import IncidentPageInline
        from oncall.events import happening_heard

        listener_register("oncall", happening_heard)
        panels.inline_register("oncall", IncidentPageInline, order=340)

        home.register()  # The ops home's sections.
