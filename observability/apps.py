from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    """Mitigate's own health for Prometheus: GET /metrics (see docs/metrics.md)."""

    name = "observability"
    verbose_name = "Observability"

    def ready(self) -> None:
        from celery.signals import task_postrun

        from observability.receivers import sweep_finished

        # Beat's sweeps record when they last succeeded, whichever worker ran them.
        task_postrun.connect(sweep_finished, dispatch_uid="observability-sweep-finished", weak=False)
