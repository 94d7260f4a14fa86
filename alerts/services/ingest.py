"""Ingestion of parsed payloads into alerts, idempotent per source and fingerprint. The request path
stops at storing: matching, incidents and actions happen in the processing task, enqueued after
commit. If the broker cannot take the message the alerts stay unprocessed for the sweeper."""

import logging
from datetime import datetime
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from alerts.choices import AlertStatus
from alerts.models import Alert, AlertPayload, AlertSource
from alerts.parsers import ParsedAlert, ParsedPayload, PayloadError
from alerts.services.ingest_upsert import alerts_upsert, alerts_upsert_lean, upsert_applies
from alerts.services.sources import SourceChangedError
from common.publish_behind import ids_publish_behind

logger = logging.getLogger(__name__)

# Display fields are cut to their columns; fingerprints are identity, so the view refuses long ones.
NAME_LENGTH = Alert._meta.get_field("name").max_length
SEVERITY_LENGTH = Alert._meta.get_field("severity").max_length
FINGERPRINT_LENGTH = Alert._meta.get_field("fingerprint").max_length


def payload_check(*, source: AlertSource, payload: ParsedPayload) -> None:
    """Refuse, with a PayloadError naming the field and the limit, what the source's limits do not
    allow: an overlong fingerprint (it is the alert's identity, so it is never cut), too many labels
    or annotations, an overlong name or value. Checked before the rate limiter counts the payload."""
    for index, alert in enumerate(payload.alerts):
        where = f"alerts[{index}]"
        if len(alert.fingerprint) > FINGERPRINT_LENGTH:
            raise PayloadError(f"{where}.fingerprint is longer than {FINGERPRINT_LENGTH} characters")
        _check_pairs(
            f"{where}.labels", alert.labels, source, source.max_label_value_length, "max_label_value_length"
        )
        _check_pairs(
            f"{where}.annotations",
            alert.annotations,
            source,
            source.max_annotation_value_length,
            "max_annotation_value_length",
        )


def _check_pairs(
    where: str, pairs: dict[str, str], source: AlertSource, value_limit: int, setting: str
) -> None:
    if len(pairs) > source.max_labels:
        raise PayloadError(
            f"{where} has {len(pairs)} entries; source {source.slug!r} allows at most {source.max_labels} "
            "(max_labels)"
        )
    for name, value in pairs.items():
        if len(name) > source.max_label_name_length:
            raise PayloadError(
                f"{where} has a name of {len(name)} characters ({name[:40]!r}...); source {source.slug!r} "
                f"allows at most {source.max_label_name_length} (max_label_name_length)"
            )
        if len(value) > value_limit:
            raise PayloadError(
                f"{where}.{name[:40]} is {len(value)} characters long; source {source.slug!r} allows at most "
                f"{value_limit} ({setting})"
            )


def processing_enqueue(alert_ids: list[int]) -> None:
    """After commit, hand the alerts to the processing task. On Redis the process's publishing
    thread sends the message (common.publish_behind: the request does not wait on the broker, and
    alerts of requests close together share a message); elsewhere it is sent in place. A broker
    failure does not fail the request: the message waits in the outbox, and the alerts, stored and
    unprocessed, for the sweeper too."""
    if alert_ids:
        transaction.on_commit(partial(ids_publish_behind, PROCESS_TASK, "alert_ids", alert_ids))


PROCESS_TASK = "alerts.tasks.process_alerts"


# A lost insert race is retried this many times before the error goes up (and the view answers 503).
INSERT_ATTEMPTS = 3

# What a repeat or a resolve changes on an existing row; written with one bulk UPDATE per request.
UPDATED_FIELDS = [
    "status",
    "ends_at",
    "processed",
    "processing_attempts",
    "processing_error",
    "processing_failed_at",
    "replays",
    "payload",
    "last_received_at",
    "name",
    "severity",
    "labels",
    "annotations",
    "generator_url",
    "extra",
    "occurrence_count",
    "updated_at",
]


def alerts_ingest(
    *,
    source: AlertSource,
    payload: ParsedPayload,
    raw: dict,
    body: str | None = None,
    as_of: datetime | None = None,
) -> list[Alert]:
    """Store the raw payload and apply each parsed alert in one transaction: a firing alert updates
    the open alert with its fingerprint or opens one; a resolved alert resolves it. Returns the
    alert each parsed alert landed on, in payload order.

    A firing alert that started before the last alert of its fingerprint ended is a replay (a stale
    retry), counted on that alert (`replays`) instead of reopening it.

    A payload costs a constant number of queries whatever its size: one locking read of the latest
    alert of each fingerprint it names, one bulk UPDATE, one bulk INSERT. Two requests racing to open the same
    fingerprint meet at the partial unique index: the loser's INSERT fails once the winner commits,
    and its whole transaction is replayed, now finding (and counting a repeat on) the winner's row.

    On PostgreSQL a payload of firing alerts with distinct fingerprints (what Alertmanager sends
    while alerts fire) takes one statement instead, with the same rules (alerts.services.ingest_upsert);
    `body`, the payload's JSON text when the caller has it, is then stored as it is.

    `as_of`, the source's updated_at that the request was checked against (its token, enabled,
    limits): nothing is stored, and SourceChangedError raised, unless the source's row still has it."""
    if upsert_applies(payload):
        now = timezone.now()
        landed = alerts_upsert(source=source, payload=payload, raw=raw, body=body, now=now, as_of=as_of)
        processing_enqueue(sorted({alert.pk for alert in landed if not alert.processed}))
        return landed
    for attempt in range(1, INSERT_ATTEMPTS + 1):
        try:
            return _ingest_once(source, payload, raw, as_of)
        except IntegrityError:
            if attempt == INSERT_ATTEMPTS:
                raise
            logger.info("Alert from source %s opened concurrently; replaying the payload", source.slug)
    raise AssertionError("unreachable")


def alerts_receive(
    *,
    source: AlertSource,
    payload: ParsedPayload,
    raw: dict,
    body: str | None = None,
    as_of: datetime | None = None,
) -> list[int]:
    """alerts_ingest for the webhook, which answers only ids: the id of the alert each parsed alert
    landed on, in payload order. The one-statement path returns just those (and whether each is
    processed), not whole rows made into Alert objects; the same rules, the same message."""
    if upsert_applies(payload):
        now = timezone.now()
        landed = alerts_upsert_lean(source=source, payload=payload, raw=raw, body=body, now=now, as_of=as_of)
        processing_enqueue(sorted({pk for pk, processed in landed if not processed}))
        return [pk for pk, _ in landed]
    ingested = alerts_ingest(source=source, payload=payload, raw=raw, body=body, as_of=as_of)
    return [alert.pk for alert in ingested]


def _ingest_once(
    source: AlertSource, payload: ParsedPayload, raw: dict, as_of: datetime | None
) -> list[Alert]:
    now = timezone.now()
    with transaction.atomic():
        service_id = _source_service_id(source, as_of)
        stored = AlertPayload.objects.create(
            source=source, received_at=now, body=raw, alert_count=len(payload.alerts)
        )
        latest = _latest_alerts(source, {p.fingerprint for p in payload.alerts})
        plan = _Plan(source, service_id, stored, now, latest)
        for parsed in payload.alerts:
            if parsed.status == AlertStatus.FIRING:
                plan.fire(parsed)
            else:
                plan.resolve(parsed)
        plan.write()
        processing_enqueue(sorted({alert.pk for alert in plan.landed if not alert.processed}))
    return plan.landed


def _source_service_id(source: AlertSource, as_of: datetime | None) -> int | None:
    """The source's service; with `as_of`, read from its row, which must still have that updated_at."""
    if as_of is None:
        return source.default_service_id
    found = AlertSource.objects.filter(pk=source.pk, updated_at=as_of).values_list("default_service_id")
    row = found.first()
    if row is None:
        raise SourceChangedError(source.slug)
    return row[0]


def _latest_alerts(source: AlertSource, fingerprints: set[str]) -> list[Alert]:
    """The latest row of each of these fingerprints (the firing one, if any, else the last resolved
    one), locked until commit. Locked in fingerprint order, so two requests naming the same alerts
    queue up instead of deadlocking."""
    if not fingerprints:
        return []
    latest = (
        Alert.objects.filter(source=source, fingerprint__in=fingerprints)
        .values("fingerprint")
        .annotate(latest=Max("id"))
        .values("latest")
    )
    return list(
        Alert.objects.select_for_update()
        .filter(Q(status=AlertStatus.FIRING) | Q(pk__in=latest), source=source, fingerprint__in=fingerprints)
        .order_by("fingerprint", "id")
    )


class _Plan:
    """The payload's alerts applied in order to in-memory rows, then written at once. `open` follows
    the firing row of each fingerprint as the payload goes (a payload may fire, resolve and fire one
    fingerprint again); `landed` is the row each parsed alert landed on."""

    def __init__(
        self, source: AlertSource, service_id: int | None, stored: AlertPayload, now, latest: list[Alert]
    ):
        self.source, self.service_id, self.stored, self.now = source, service_id, stored, now
        self.open = {alert.fingerprint: alert for alert in latest if alert.status == AlertStatus.FIRING}
        # The last resolved row of each fingerprint without a firing one: a resolve repeated, or a
        # firing replayed, lands on it.
        self.ended = {alert.fingerprint: alert for alert in latest if alert.fingerprint not in self.open}
        self.changed: dict[int, Alert] = {}  # existing rows to update, by id
        self.created: list[Alert] = []  # new rows, in payload order
        self.landed: list[Alert] = []

    def fire(self, parsed: ParsedAlert) -> None:
        alert = self.open.get(parsed.fingerprint)
        ended = self.ended.get(parsed.fingerprint)
        if (
            alert is None
            and ended is not None
            and ended.ends_at is not None
            and parsed.starts_at <= ended.ends_at
        ):
            # It started before the alert ended: an old notification (a retry, a replayed queue), not
            # a recurrence, which would start after. Counted, and nothing reopens.
            ended.replays += 1
            ended.updated_at = self.now
            if ended.pk is not None:
                self.changed[ended.pk] = ended
            logger.info(
                "Alert %s of source %s: a firing that started before it resolved, counted as a replay",
                parsed.fingerprint[:64],
                self.source.slug,
            )
            self.landed.append(ended)
            return
        if alert is None:
            alert = self._new(parsed, AlertStatus.FIRING)
            self.open[parsed.fingerprint] = alert
        else:
            alert.occurrence_count += 1
            self._refresh(alert, parsed)
        self.landed.append(alert)

    def resolve(self, parsed: ParsedAlert) -> None:
        alert = self.open.pop(parsed.fingerprint, None)
        if alert is not None:
            self.ended[parsed.fingerprint] = alert
            alert.status = AlertStatus.RESOLVED
            alert.ends_at = parsed.ends_at or self.now
            alert.processed = False  # The resolution has consequences of its own (runs, closed loop).
            # A new change gets its own attempts, also when processing the firing one failed.
            alert.processing_attempts, alert.processing_error, alert.processing_failed_at = 0, "", None
            self._refresh(alert, parsed)
        else:
            # A resolve for an alert already resolved (senders repeat them) changes nothing; one for
            # an alert we never saw is recorded once.
            alert = self.ended.get(parsed.fingerprint)
            if alert is None:
                alert = self._new(parsed, AlertStatus.RESOLVED)
                self.ended[parsed.fingerprint] = alert
        self.landed.append(alert)

    def write(self) -> None:
        """Updates before inserts: a row this payload resolved must leave the unique index before a
        new firing row of its fingerprint enters it. Inserts go in fingerprint order, like the locks."""
        if self.changed:
            Alert.objects.bulk_update(list(self.changed.values()), UPDATED_FIELDS)
        if self.created:
            Alert.objects.bulk_create(sorted(self.created, key=lambda alert: alert.fingerprint))

    def _refresh(self, alert: Alert, parsed: ParsedAlert) -> None:
        alert.payload = self.stored
        alert.last_received_at = self.now
        alert.updated_at = self.now  # bulk_update does not apply auto_now
        alert.name = parsed.name[:NAME_LENGTH]
        alert.severity = parsed.severity[:SEVERITY_LENGTH]
        alert.labels = parsed.labels
        alert.annotations = parsed.annotations
        alert.generator_url = parsed.generator_url
        alert.extra = parsed.extra
        if alert.pk is not None:
            self.changed[alert.pk] = alert

    def _new(self, parsed: ParsedAlert, status: str) -> Alert:
        alert = Alert(
            source=self.source,
            payload=self.stored,
            fingerprint=parsed.fingerprint,
            name=parsed.name[:NAME_LENGTH],
            status=status,
            severity=parsed.severity[:SEVERITY_LENGTH],
            labels=parsed.labels,
            annotations=parsed.annotations,
            starts_at=parsed.starts_at,
            ends_at=(parsed.ends_at or self.now) if status == AlertStatus.RESOLVED else None,
            received_at=self.now,
            last_received_at=self.now,
            generator_url=parsed.generator_url,
            extra=parsed.extra,
            service_id=self.service_id,
        )
        self.created.append(alert)
        return alert
