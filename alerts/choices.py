from django.db import models


class SourceKind(models.TextChoices):
    ALERTMANAGER = "alertmanager", "Prometheus Alertmanager"
    GRAFANA = "grafana", "Grafana unified alerting"
    GENERIC = "generic", "Generic JSON"


class AlertStatus(models.TextChoices):
    FIRING = "firing", "Firing"
    RESOLVED = "resolved", "Resolved"
