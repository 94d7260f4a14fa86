"""Writes of the analytics rollups (analytics.models.IncidentDayRollup and friends).

`analytics_rollups_refresh` is called by the services that change an incident's analytics inputs
(create, update, each status transition, repeat marking, cost refresh), inside their transaction:
it recomputes the incidents' member rows and moves their contributions with atomic
`col = col + delta` upserts, so concurrent refreshes of one day add up. `analytics_rollups_rebuild`
recomputes everything (`manage.py rebuild_analytics_rollups`; after a bulk load or a TIME_ZONE
change)."""

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from analytics.models import (
    ClockDayHistogram,
    CostGroupDayRollup,
    IncidentCostGroup,
    IncidentDayRollup,
    IncidentHourRollup,
    IncidentRollupMember,
    RollupSegment,
    RollupSegmentGroup,
    RollupState,
)
from analytics.rollups.facts import (
    CLOCK_NAMES,
    DAY_SUMS,
    SOURCE_FIELDS,
    contribution,
    member_values,
    services_key,
)
from incidents.models import Incident, Service

MEMBER_FIELDS = [f.attname for f in IncidentRollupMember._meta.concrete_fields]


def _segment_groups_store(segment: RollupSegment) -> None:
    """The segment's services and its RollupSegmentGroup rows (see there)."""
    ids = [int(pk) for pk in segment.services_key.split(",")] if segment.services_key else []
    segment.services.set(ids)
    kinds = {"service_type": Counter(), "team": Counter()}
    for kind, team in Service.objects.filter(pk__in=ids).values_list("type", "owner_team"):
        kinds["service_type"][kind] += 1
        kinds["team"][team] += 1
    RollupSegmentGroup.objects.bulk_create(
        [
            RollupSegmentGroup(segment=segment, kind=kind, key=key, mult=mult)
            for kind, counts in kinds.items()
            for key, mult in (counts.items() if ids else [(None, 1)])
        ]
    )


def analytics_segments_regroup(*, service_ids: Iterable[int]) -> int:
    """A service's type or owner team changed: re-derive the groups of the segments it is in."""
    segments = RollupSegment.objects.filter(services__in=list(service_ids)).distinct()
    done = 0
    for segment in segments:
        RollupSegmentGroup.objects.filter(segment=segment).delete()
        _segment_groups_store(segment)
        done += 1
    return done


# Above this many incidents, a deleted service's incidents are not refreshed one by one: the
# rollups are marked unbuilt instead (the selectors query directly until the rebuild command).
REFRESH_LIMIT = 1000


def analytics_rollups_service_gone(*, incident_ids: list[int]) -> None:
    """A service was deleted: its incidents' service sets (so their segments) changed."""
    if len(incident_ids) > REFRESH_LIMIT:
        RollupState.objects.all().delete()
    else:
        analytics_rollups_refresh(incident_ids=incident_ids)


def _segments(rows: list[dict[str, Any]], services: dict[int, list[int]]) -> dict[int, int]:
    """Segment id per incident id, creating the missing segments."""
    keys = {
        row["id"]: (
            row["priority_id"],
            row["root_cause_category"],
            row["is_drill"],
            services_key(services[row["id"]]),
        )
        for row in rows
    }
    known = {}
    wanted = set(keys.values())
    for segment in RollupSegment.objects.filter(services_key__in={k[3] for k in wanted}):
        known[(segment.priority_id, segment.root_cause_category, segment.is_drill, segment.services_key)] = (
            segment.pk
        )
    for key in wanted - known.keys():
        priority_id, cause, drill, service_key = key
        try:
            with transaction.atomic():
                segment = RollupSegment.objects.create(
                    priority_id=priority_id,
                    root_cause_category=cause,
                    is_drill=drill,
                    services_key=service_key,
                )
                _segment_groups_store(segment)
        except IntegrityError:  # Created meanwhile by a concurrent refresh.
            segment = RollupSegment.objects.get(
                priority_id=priority_id, root_cause_category=cause, is_drill=drill, services_key=service_key
            )
        known[key] = segment.pk
    return {pk: known[key] for pk, key in keys.items()}


def _members(incident_ids: list[int]) -> list[dict[str, Any]]:
    rows = list(Incident.objects.filter(pk__in=incident_ids).values(*SOURCE_FIELDS))
    services: dict[int, list[int]] = defaultdict(list)
    for incident_id, service_id in Incident.services.through.objects.filter(
        incident_id__in=incident_ids
    ).values_list("incident_id", "service_id"):
        services[incident_id].append(service_id)
    segments = _segments(rows, services)
    cost_groups: dict[int, list[list[str]]] = defaultdict(list)
    for cost_id, kind, key in IncidentCostGroup.objects.filter(cost_id__in=incident_ids).values_list(
        "cost_id", "kind", "key"
    ):
        cost_groups[cost_id].append([kind, key])
    return [member_values(row, cost_groups[row["id"]]) | {"segment_id": segments[row["id"]]} for row in rows]


def _upsert(table: str, keys: dict[str, Any], deltas: dict[str, Any]) -> None:
    """INSERT the deltas, or add them to the row with these keys (PostgreSQL and SQLite)."""
    quote = connection.ops.quote_name
    columns = [*keys, *deltas]
    sets = ", ".join(f"{quote(c)} = {table}.{quote(c)} + excluded.{quote(c)}" for c in deltas)
    sql = (
        f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({', '.join(quote(k) for k in keys)}) DO UPDATE SET {sets}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*keys.values(), *deltas.values()])


Deltas = dict[tuple[str, tuple], dict[str, Any]]


def _add_deltas(deltas: Deltas, table: str, keys: dict[str, Any], values: dict[str, Any], sign: int) -> None:
    row = deltas.setdefault((table, tuple(keys.items())), {})
    for column, value in values.items():
        row[column] = row.get(column, 0) + value * sign


def _contribute(deltas: Deltas, member: dict[str, Any], sign: int) -> None:
    """Add (sign 1) or take away (sign -1) one member's contribution to the rollups' deltas."""
    day, segment = member["day"], member["segment_id"]
    _add_deltas(
        deltas,
        IncidentDayRollup._meta.db_table,
        {"day": day, "segment_id": segment},
        contribution(member),
        sign,
    )
    for name in CLOCK_NAMES:
        if member[f"{name}_b"] is not None:
            keys = {"day": day, "is_drill": member["is_drill"], "clock": name, "bucket": member[f"{name}_b"]}
            _add_deltas(deltas, ClockDayHistogram._meta.db_table, keys, {"n": 1}, sign)
    for kind, key in member["cost_groups"]:
        cost = {
            "cost_incidents": 1,
            "cost_total": member["cost_amount"] or 0,
            "cost_seconds": member["cost_seconds"] or 0,
        }
        keys = {"day": day, "segment_id": segment, "kind": kind, "key": key}
        _add_deltas(deltas, CostGroupDayRollup._meta.db_table, keys, cost, sign)
    keys = {"day": day, "hour": member["hour"], "is_drill": member["is_drill"]}
    _add_deltas(deltas, IncidentHourRollup._meta.db_table, keys, {"incidents": 1}, sign)


def _write(deltas: Deltas) -> set[str]:
    """One upsert per changed row (a change within one row nets out: an acknowledgement touches
    its day's sums and one histogram bucket); returns the tables where some row lost incidents."""
    shrunk = set()
    for (table, keys), values in deltas.items():
        if any(values.values()):
            _upsert(table, dict(keys), values)
        if any(v < 0 for c, v in values.items() if c in ("incidents", "n", "cost_incidents")):
            shrunk.add(table)
    return shrunk


def analytics_rollups_refresh(*, incident_ids: Iterable[int]) -> int:
    """Bring the incidents' rollup contributions up to date (a gone incident's is removed); returns
    how many changed. Call inside the transaction that changed them, after the change."""
    ids = sorted(set(incident_ids))
    if not ids:
        return 0
    # No savepoint: the callers' transaction is the unit (2 queries fewer on every change).
    with transaction.atomic(savepoint=False):
        old = {
            m["incident_id"]: m
            for m in IncidentRollupMember.objects.filter(pk__in=ids).values(*MEMBER_FIELDS)
        }
        new = {m["incident_id"]: m for m in _members(ids)}
        changed = [pk for pk in ids if old.get(pk) != new.get(pk)]
        if not changed:
            return 0
        deltas: Deltas = {}
        for pk in changed:
            if pk in old:
                _contribute(deltas, old[pk], -1)
            if pk in new:
                _contribute(deltas, new[pk], 1)
        shrunk = _write(deltas)
        gone = [old[pk] for pk in changed if pk in old]
        if gone:
            IncidentRollupMember.objects.filter(pk__in=[m["incident_id"] for m in gone]).delete()
        # Rows whose last incident left: deleted, as the rebuild would not write them.
        days = {m["day"] for m in gone}
        for model, empty in (
            (IncidentDayRollup, {"incidents": 0}),
            (ClockDayHistogram, {"n": 0}),
            (IncidentHourRollup, {"incidents": 0}),
            (CostGroupDayRollup, {"cost_incidents": 0}),
        ):
            if model._meta.db_table in shrunk:
                model.objects.filter(day__in=days, **empty).delete()
        IncidentRollupMember.objects.bulk_create(
            [IncidentRollupMember(**new[pk]) for pk in changed if pk in new]
        )
    return len(changed)


def analytics_rollups_rebuild(*, chunk: int = 20_000) -> int:
    """Recompute every rollup from the incidents, in one transaction; returns the incidents."""
    member_table = IncidentRollupMember._meta.db_table
    with transaction.atomic():
        for model in (
            IncidentDayRollup,
            CostGroupDayRollup,
            ClockDayHistogram,
            IncidentHourRollup,
            IncidentRollupMember,
            RollupState,
            RollupSegment,
        ):
            model.objects.all().delete()
        total, last = 0, 0
        while True:
            ids = list(
                Incident.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:chunk]
            )
            if not ids:
                break
            members = _members(ids)
            IncidentRollupMember.objects.bulk_create(
                [IncidentRollupMember(**m) for m in members], batch_size=5000
            )
            total, last = total + len(members), ids[-1]
        sums = ", ".join(f"SUM({expression})" for expression in DAY_SUMS.values())
        clocks = " UNION ALL ".join(
            f"SELECT day, is_drill, '{name}', {name}_b, COUNT(*) FROM {member_table} "
            f"WHERE {name}_b IS NOT NULL GROUP BY day, is_drill, {name}_b"
            for name in CLOCK_NAMES
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {IncidentDayRollup._meta.db_table} (day, segment_id, {', '.join(DAY_SUMS)}) "
                f"SELECT day, segment_id, {sums} FROM {member_table} GROUP BY day, segment_id"
            )
            cursor.execute(
                f"INSERT INTO {ClockDayHistogram._meta.db_table} (day, is_drill, clock, bucket, n) {clocks}"
            )
            # The same snapshot as the members' cost_groups: this transaction's IncidentCostGroup rows.
            cursor.execute(
                f"INSERT INTO {CostGroupDayRollup._meta.db_table} "
                "(day, segment_id, kind, key, cost_incidents, cost_total, cost_seconds) "
                "SELECT m.day, m.segment_id, g.kind, g.key, COUNT(*), SUM(m.cost_amount), "
                f"SUM(m.cost_seconds) FROM {member_table} m "
                f"JOIN {IncidentCostGroup._meta.db_table} g ON g.cost_id = m.incident_id "
                "WHERE m.cost GROUP BY m.day, m.segment_id, g.kind, g.key"
            )
            cursor.execute(
                f"INSERT INTO {IncidentHourRollup._meta.db_table} (day, hour, is_drill, incidents) "
                f"SELECT day, hour, is_drill, COUNT(*) FROM {member_table} GROUP BY day, hour, is_drill"
            )
        RollupState.objects.create(time_zone=settings.TIME_ZONE, built_at=timezone.now())
    if connection.vendor == "postgresql":
        # Fresh statistics, or the planner joins the new rows as if the tables were empty; and,
        # outside a transaction, the visibility map VACUUM sets, for index-only scans.
        tables = (
            IncidentDayRollup,
            CostGroupDayRollup,
            ClockDayHistogram,
            IncidentHourRollup,
            IncidentRollupMember,
            RollupSegment,
        )
        with connection.cursor() as cursor:
            command = "ANALYZE " if connection.in_atomic_block else "VACUUM ANALYZE "
            cursor.execute(command + ", ".join(m._meta.db_table for m in (*tables, RollupSegmentGroup)))
    return total
