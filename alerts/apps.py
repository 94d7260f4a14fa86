from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from actions.signals import run_finished
        from alerts.receivers import closed_loop_enqueue

        run_finished.connect(closed_loop_enqueue, dispatch_uid="alerts-closed-loop")
