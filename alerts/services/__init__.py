"""The write path for alerts: sources, ingestion, rules and silences, processing, the closed loop."""

from alerts.services.ingest import (
    FINGERPRINT_LENGTH,
    alerts_ingest,
    alerts_receive,
    payload_check,
    processing_enqueue,
)
from alerts.services.rules import (
    alert_rule_delete,
    alert_rule_save,
    silence_expire,
    silence_save,
)
from alerts.services.sources import (
    SourceChangedError,
    alert_source_create,
    alert_source_delete,
    alert_source_rotate_token,
    alert_source_update,
    token_hash,
)

__all__ = [
    "FINGERPRINT_LENGTH",
    "SourceChangedError",
    "alert_rule_delete",
    "alert_rule_save",
    "alert_source_create",
    "alert_source_delete",
    "alert_source_rotate_token",
    "alert_source_update",
    "alerts_ingest",
    "alerts_receive",
    "payload_check",
    "processing_enqueue",
    "silence_expire",
    "silence_save",
    "token_hash",
]
