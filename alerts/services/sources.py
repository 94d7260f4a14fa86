"""Alert sources: tokens are generated here and stored only as a SHA-256 hash."""

import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from alerts.choices import SourceKind
from alerts.models import AlertSource
from common.actor import Actor
from common.exceptions import ApplicationError
from incidents.models import Service

TOKEN_PREFIX_LENGTH = 8


class SourceChangedError(Exception):
    """The source's row no longer has the `updated_at` a request was checked against (its token,
    limits or settings changed, or it was deleted): nothing was stored, the request is to be checked
    again against the row as it is now."""


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
    max_labels: int | None = None,
    max_label_name_length: int | None = None,
    max_label_value_length: int | None = None,
    max_annotation_value_length: int | None = None,
    enabled: bool = True,
    is_drill: bool = False,
) -> tuple[AlertSource, str]:
    """Create a source; returns it with its token, which is not stored and cannot be shown again."""
    by.require("alerts.add_alertsource", "add alert sources")
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
        max_labels=_or_default(max_labels, settings.ALERT_MAX_LABELS),
        max_label_name_length=_or_default(max_label_name_length, settings.ALERT_MAX_LABEL_NAME_LENGTH),
        max_label_value_length=_or_default(max_label_value_length, settings.ALERT_MAX_LABEL_VALUE_LENGTH),
        max_annotation_value_length=_or_default(
            max_annotation_value_length, settings.ALERT_MAX_ANNOTATION_VALUE_LENGTH
        ),
        enabled=enabled,
        is_drill=is_drill,
    )
    token = _new_token(source)
    source.full_clean()
    with transaction.atomic():
        source.save()
    return source, token


def _or_default(value: int | None, default: int) -> int:
    return default if value is None else value


def alert_source_rotate_token(*, source: AlertSource, by: Actor) -> str:
    """Replace the source's token; the old one stops working at once. Returns the new token."""
    by.require("alerts.change_alertsource", "change alert sources")
    with transaction.atomic():
        source = AlertSource.objects.select_for_update().get(pk=source.pk)
        token = _new_token(source)
        source.save(update_fields=["token_hash", "token_prefix", "updated_at"])
    return token


SOURCE_FIELDS = (
    "name",
    "slug",
    "kind",
    "hmac_secret",
    "default_service",
    "rate_limit_per_minute",
    "max_body_bytes",
    "max_labels",
    "max_label_name_length",
    "max_label_value_length",
    "max_annotation_value_length",
    "enabled",
    "is_drill",
)


def alert_source_update(*, source: AlertSource, by: Actor, data: dict) -> AlertSource:
    """Change a source's settings (not its token: see `alert_source_rotate_token`). An empty
    `hmac_secret` in `data` removes signature checking; leave the key out to keep the secret."""
    by.require("alerts.change_alertsource", "change alert sources")
    for field, value in data.items():
        if field not in SOURCE_FIELDS:
            raise ValidationError({field: ["Not an alert source field."]})
        setattr(source, field, value)
    if source.kind not in SourceKind.values:
        raise ValidationError({"kind": [f"Choose one of {', '.join(SourceKind.values)}."]})
    source.full_clean()
    with transaction.atomic():
        source.save()
    return source


def alert_source_delete(*, source: AlertSource, by: Actor) -> None:
    """Delete a source with its payloads and alerts; incidents they opened stay."""
    by.require("alerts.delete_alertsource", "delete alert sources")
    source.delete()
