from django.apps import AppConfig


class DrillsConfig(AppConfig):
    name = "drills"

    def ready(self) -> None:
        from analytics.panels import panel_register
        from drills.incident_button import drill_url
        from drills.panel import drills_panel
        from drills.receivers import run_end_on_resolution
        from incidents.admin import panels
        from incidents.signals import incident_transitioned

        incident_transitioned.connect(run_end_on_resolution, dispatch_uid="drills-end-on-resolution")
        panel_register("drills", drills_panel, order=100)
        panels.button_register("drill", label="Drill", url=drill_url)
