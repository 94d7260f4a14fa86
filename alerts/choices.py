from django.db import models


class SourceKind(models.TextChoices):
    ALERTMANAGER = "alertmanager", "Prometheus Alertmanager"
    GRAFANA = "grafana", "Grafana unified alerting"
    GENERIC = "generic", "Generic JSON"


class AlertStatus(models.TextChoices):
    FIRING = "firing", "Firing"
    RESOLVED = "resolved", "Resolved"


class MatcherOp(models.TextChoices):
    EQ = "eq", "equals"
    NEQ = "neq", "does not equal"
    REGEX = "regex", "matches regex (anchored)"
    EXISTS = "exists", "exists"


class IncidentPolicy(models.TextChoices):
    CREATE = "create", "Create an incident"
    ATTACH = "attach", "Attach to the open incident of the same group"
    NONE = "none", "No incident"


class ResponseTrigger(models.TextChoices):
    IMMEDIATE = "immediate", "Immediately"
    AFTER_DELAY = "after_delay", "After a delay (cancelled if the alert resolves)"
    AFTER_APPROVAL = "after_approval", "After an approver approves"
