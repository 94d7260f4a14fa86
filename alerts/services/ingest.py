"""Ingestion of parsed payloads into alerts, idempotent per source and fingerprint. The request path
stops at storing: matching, incidents and actions happen in the processing task, enqueued after
commit. If the broker cannot take the message the alerts stay unprocessed for the sweeper."""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from alerts.choices import AlertStatus
from alerts.models import Alert, AlertPayload, AlertSource
from alerts.parsers import ParsedAlert, ParsedPayload

logger = logging.getLogger(__name__)

# Display fields are cut to their columns; fingerprints are identity, so the view refuses long ones.
NAME_LENGTH = Alert._meta.get_field("name").max_length
SEVERITY_LENGTH = Alert._meta.get_field("severity").max_length
FINGERPRINT_LENGTH = Alert._meta.get_field("fingerprint").max_length


def processing_enqueue(alert_ids: list[int]) -> None:
    """After commit, hand the alerts to the processing task in one message. A broker failure is
    logged, not raised: the alerts are stored and unprocessed, and the sweeper will find them."""
    if not alert_ids:
        return
    from alerts.tasks import process_alerts  # Tasks import services: import at call time.

    def send() -> None:
        try:
            process_alerts.apply_async(args=[alert_ids], retry=False)
        except Exception:
            logger.warning(
                "Broker unavailable; %d alert(s) left for the sweeper", len(alert_ids), exc_info=True
            )

    transaction.on_commit(send)


def alerts_ingest(*, source: AlertSource, payload: ParsedPayload, raw: dict) -> list[Alert]:
    """Store the raw payload and apply each parsed alert in one transaction: a firing alert updates
    the open alert with its fingerprint or opens one; a resolved alert resolves it. Returns the
    alert each parsed alert landed on, in payload order."""
    now = timezone.now()
    with transaction.atomic():
        stored = AlertPayload.objects.create(
            source=source, received_at=now, body=raw, alert_count=len(payload.alerts)
        )
        alerts = [_apply(source, stored, parsed, now) for parsed in payload.alerts]
        processing_enqueue(sorted({alert.pk for alert in alerts if not alert.processed}))
    return alerts


def _open_alert(source: AlertSource, fingerprint: str) -> Alert | None:
    return (
        Alert.objects.select_for_update()
        .filter(source=source, fingerprint=fingerprint, status=AlertStatus.FIRING)
        .first()
    )


def _apply(source: AlertSource, stored: AlertPayload, parsed: ParsedAlert, now) -> Alert:
    if parsed.status == AlertStatus.FIRING:
        return _fire(source, stored, parsed, now)
    return _resolve(source, stored, parsed, now)


def _fire(source: AlertSource, stored: AlertPayload, parsed: ParsedAlert, now) -> Alert:
    alert = _open_alert(source, parsed.fingerprint)
    if alert is None:
        try:
            # A savepoint, so a lost race leaves the outer transaction usable.
            with transaction.atomic():
                return _create(source, stored, parsed, now, AlertStatus.FIRING)
        except IntegrityError:
            # Another request opened it between our read and our insert; its row is committed now.
            alert = _open_alert(source, parsed.fingerprint)
            if alert is None:
                raise
    alert.occurrence_count += 1
    _refresh(alert, stored, parsed, now)
    alert.save()
    return alert


def _resolve(source: AlertSource, stored: AlertPayload, parsed: ParsedAlert, now) -> Alert:
    alert = _open_alert(source, parsed.fingerprint)
    if alert is not None:
        alert.status = AlertStatus.RESOLVED
        alert.ends_at = parsed.ends_at or now
        alert.processed = False  # The resolution has consequences of its own (runs, closed loop).
        _refresh(alert, stored, parsed, now)
        alert.save()
        return alert
    # A resolve for an alert already resolved (senders repeat them) changes nothing; one for an alert
    # we never saw is recorded once.
    seen = Alert.objects.filter(source=source, fingerprint=parsed.fingerprint).order_by("-id").first()
    if seen is not None:
        return seen
    return _create(source, stored, parsed, now, AlertStatus.RESOLVED)


def _refresh(alert: Alert, stored: AlertPayload, parsed: ParsedAlert, now) -> None:
    alert.payload = stored
    alert.last_received_at = now
    alert.name = parsed.name[:NAME_LENGTH]
    alert.severity = parsed.severity[:SEVERITY_LENGTH]
    alert.labels = parsed.labels
    alert.annotations = parsed.annotations
    alert.generator_url = parsed.generator_url
    alert.extra = parsed.extra


def _create(source: AlertSource, stored: AlertPayload, parsed: ParsedAlert, now, status: str) -> Alert:
    return Alert.objects.create(
        source=source,
        payload=stored,
        fingerprint=parsed.fingerprint,
        name=parsed.name[:NAME_LENGTH],
        status=status,
        severity=parsed.severity[:SEVERITY_LENGTH],
        labels=parsed.labels,
        annotations=parsed.annotations,
        starts_at=parsed.starts_at,
        ends_at=(parsed.ends_at or now) if status == AlertStatus.RESOLVED else None,
        received_at=now,
        last_received_at=now,
        generator_url=parsed.generator_url,
        extra=parsed.extra,
        service=source.default_service,
    )
