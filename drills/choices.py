from django.db import models


class ScenarioKind(models.TextChoices):
    DATABASE_CONNECTIONS = "database_connections", "Database connection exhaustion"
    NETWORK_LATENCY = "network_latency", "Network latency"
    SECURITY_EVENT = "security_event", "Security event"
    DISK_FULL = "disk_full", "Disk full"
    MEMORY_PRESSURE = "memory_pressure", "Memory pressure"
    CUSTOM = "custom", "Custom"


class StartMode(models.TextChoices):
    SYNTHETIC_ALERT = "synthetic_alert", "Synthetic alert through a drill source"
    DIRECT = "direct", "Incident opened directly"


class DrillStatus(models.TextChoices):
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


ENDED = (DrillStatus.COMPLETED, DrillStatus.CANCELLED)
