"""Where alerts come from, the payloads they arrived in, the normalized alerts themselves, the rules
and silences they are matched against, and the automated responses rules trigger."""

from alerts.models.alert import Alert, AlertPayload, TriggeredRun
from alerts.models.rules import AlertRule, AutomatedResponse, Silence, default_group_by
from alerts.models.source import AlertSource

__all__ = [
    "Alert",
    "AlertPayload",
    "AlertRule",
    "AlertSource",
    "AutomatedResponse",
    "Silence",
    "TriggeredRun",
    "default_group_by",
]
