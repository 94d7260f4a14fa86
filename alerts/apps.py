from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from actions.signals import run_finished
        from alerts.admin import home
        from alerts.admin.incident import IncidentAlertInline
        from alerts.admin.runbooks import IncidentRunbooksWithRulesInline
        from alerts.receivers import closed_loop_enqueue
        from incidents.admin import panels

        run_finished.connect(closed_loop_enqueue, dispatch_uid="alerts-closed-loop")
        panels.inline_register("alerts", IncidentAlertInline, order=200)
        # The runbooks of the incident's services and of its alerts' rules (actions.admin.runbooks_panel).
        panels.inline_register("runbooks", IncidentRunbooksWithRulesInline, order=320)

        home.register()  # The ops home's sections.
