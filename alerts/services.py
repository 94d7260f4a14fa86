"""Writes for alert sources (tokens generated here, stored hashed) and the ingestion of parsed
payloads into alerts, idempotent per source and fingerprint."""

import hashlib
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from alerts.choices import AlertStatus, SourceKind
from alerts.models import Alert, AlertPayload, AlertSource
from alerts.parsers import ParsedAlert, ParsedPayload
from common.actor import Actor
from common.exceptions import ApplicationError, PermissionDeniedError
from incidents.models import Service

TOKEN_PREFIX_LENGTH = 8
# Display fields are cut to their columns; fingerprints are identity, so the view refuses long ones.
NAME_LENGTH = Alert._meta.get_field("name").max_length
SEVERITY_LENGTH = Alert._meta.get_field("severity").max_length
FINGERPRINT_LENGTH = Alert._meta.get_field("fingerprint").max_length


def _require(by: Actor, perm: str, what: str) -> None:
    if not by.has_perm(perm):
        raise PermissionDeniedError(f"You may not {what}.")


def token_hash(token: str) -> str:
    """The SHA-256 hex digest a source stores instead of its token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_token(source: AlertSource) -> str:
    token = secrets.token_urlsafe(32)
    source.token_hash = token_hash(token)
    source.token_prefix = token[:TOKEN_PREFIX_LENGTH]
    return token


def alert_source_create(
    *,
    by: Actor,
    name: str,
    kind: str,
    slug: str = "",
    hmac_secret: str = "",
    default_service: Service | None = None,
    rate_limit_per_minute: int | None = None,
    max_body_bytes: int | None = None,
    enabled: bool = True,
) -> tuple[AlertSource, str]:
    """Create a source; returns it with its token, which is not stored and cannot be shown again."""
    _require(by, "alerts.add_alertsource", "add alert sources")
    if kind not in SourceKind.values:
        expected = ", ".join(SourceKind.values)
        raise ApplicationError(f"Unknown source kind {kind!r}; expected one of {expected}.")
    source = AlertSource(
        name=name,
        slug=slug or slugify(name),
        kind=kind,
        hmac_secret=hmac_secret,
        default_service=default_service,
        rate_limit_per_minute=(
            settings.ALERT_RATE_LIMIT_PER_MINUTE if rate_limit_per_minute is None else rate_limit_per_minute
        ),
        max_body_bytes=settings.ALERT_MAX_BODY_BYTES if max_body_bytes is None else max_body_bytes,
        enabled=enabled,
    )
    token = _new_token(source)
    source.full_clean()
    with transaction.atomic():
        source.save()
    return source, token


def alert_source_rotate_token(*, source: AlertSource, by: Actor) -> str:
    """Replace the source's token; the old one stops working at once. Returns the new token."""
    _require(by, "alerts.change_alertsource", "change alert sources")
    with transaction.atomic():
        source = AlertSource.objects.select_for_update().get(pk=source.pk)
        token = _new_token(source)
        source.save(update_fields=["token_hash", "token_prefix", "updated_at"])
    return token


def alerts_ingest(*, source: AlertSource, payload: ParsedPayload, raw: dict) -> list[Alert]:
    """Store the raw payload and apply each parsed alert in one transaction: a firing alert updates
    the open alert with its fingerprint or opens one; a resolved alert resolves it. Returns the
    alert each parsed alert landed on, in payload order."""
    now = timezone.now()
    with transaction.atomic():
        stored = AlertPayload.objects.create(
            source=source, received_at=now, body=raw, alert_count=len(payload.alerts)
        )
        return [_apply(source, stored, parsed, now) for parsed in payload.alerts]


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
