"""What one incident adds to the analytics rollups: the same definitions the direct queries use
(analytics.selectors.summary, clocks), computed once per incident from its row."""

from datetime import datetime
from typing import Any

from django.utils import timezone

DAY_US = 86_400_000_000
CLOCK_NAMES = ("mttd", "mtta", "mttr")
# The incident's columns the rollups read (and its cost's, through the one-to-one).
SOURCE_FIELDS = (
    "id",
    "priority_id",
    "root_cause_category",
    "is_drill",
    "started_at",
    "detected_at",
    "acknowledged_at",
    "resolved_at",
    "auto_resolved",
    "is_repeat",
    "reopen_count",
    "response_due_at",
    "resolution_due_at",
    "cost__incident_id",
    "cost__amount",
    "cost__responder_seconds",
    "cost__meeting_seconds",
)
# Histogram resolution: 2**SUB_BITS buckets per doubling of the value (about 6% wide).
SUB_BITS = 4


def bucket(us: int | None) -> int | None:
    """The histogram bucket of a clock value in microseconds: exact integer edges, monotonic (a
    larger value never falls in a smaller bucket), the value itself below 2**(SUB_BITS+1)."""
    if us is None:
        return None
    if us < 0:
        return -1 - bucket(-us)
    if us < 1 << (SUB_BITS + 1):
        return us
    shift = us.bit_length() - SUB_BITS - 1
    return (shift << SUB_BITS) + (us >> shift)


def whole_days(us: int) -> int:
    """The days part of a justified interval (PostgreSQL's timestamp difference): truncated toward
    zero, as SQL integer division does."""
    days = abs(us) // DAY_US
    return days if us >= 0 else -days


def _us(later: datetime | None, earlier: datetime | None) -> int | None:
    if later is None or earlier is None:
        return None
    delta = later - earlier
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def services_key(service_ids) -> str:
    return ",".join(str(pk) for pk in sorted(set(service_ids)))


def member_values(row: dict[str, Any], cost_groups: list[list[str]] | None = None) -> dict[str, Any]:
    """The IncidentRollupMember columns (but the segment) of an incident row of SOURCE_FIELDS and
    its cost groups ([kind, key] pairs)."""
    detected = timezone.localtime(row["detected_at"])
    ack, resolved_at = row["acknowledged_at"], row["resolved_at"]
    resolved = resolved_at is not None
    first_response = ack if ack is not None else resolved_at
    response_due, resolution_due = row["response_due_at"], row["resolution_due_at"]
    clocks = {
        "mttd": _us(row["detected_at"], row["started_at"]),
        "mtta": _us(ack, row["detected_at"]),
        "mttr": _us(resolved_at, row["detected_at"]),
    }
    has_cost = row["cost__incident_id"] is not None
    values = {
        "incident_id": row["id"],
        "day": detected.date(),
        "hour": detected.hour,
        "detected_at": row["detected_at"],
        "is_drill": row["is_drill"],
        "resolved": resolved,
        "auto_resolved": resolved and row["auto_resolved"],
        "repeat": row["is_repeat"],
        "reopened": row["reopen_count"] > 0,
        "repeated": row["is_repeat"] or row["reopen_count"] > 0,
        "response_settled": response_due is not None and (ack is not None or resolved),
        "response_met": response_due is not None
        and first_response is not None
        and first_response <= response_due,
        "resolution_settled": resolution_due is not None and resolved,
        "resolution_met": resolution_due is not None and resolved and resolved_at <= resolution_due,
        "cost": has_cost,
        "cost_amount": row["cost__amount"] if has_cost else None,
        "cost_seconds": (row["cost__responder_seconds"] + row["cost__meeting_seconds"]) if has_cost else None,
        "cost_groups": sorted(cost_groups or []) if has_cost else [],
    }
    for name, us in clocks.items():
        values[f"{name}_us"] = us
        values[f"{name}_b"] = bucket(us)
    return values


# The IncidentDayRollup columns as sums over members: (rollup column, member expression in SQL).
DAY_SUMS = {
    "incidents": "1",
    "resolved": "CASE WHEN resolved THEN 1 ELSE 0 END",
    "auto_resolved": "CASE WHEN auto_resolved THEN 1 ELSE 0 END",
    "repeats": "CASE WHEN repeat THEN 1 ELSE 0 END",
    "reopened": "CASE WHEN reopened THEN 1 ELSE 0 END",
    "repeated": "CASE WHEN repeated THEN 1 ELSE 0 END",
    "response_settled": "CASE WHEN response_settled THEN 1 ELSE 0 END",
    "response_met": "CASE WHEN response_met THEN 1 ELSE 0 END",
    "resolution_settled": "CASE WHEN resolution_settled THEN 1 ELSE 0 END",
    "resolution_met": "CASE WHEN resolution_met THEN 1 ELSE 0 END",
    **{
        column: expression
        for name in CLOCK_NAMES
        for column, expression in (
            (f"{name}_n", f"CASE WHEN {name}_us IS NULL THEN 0 ELSE 1 END"),
            (f"{name}_days", f"COALESCE({name}_us / {DAY_US}, 0)"),
            (f"{name}_us", f"COALESCE({name}_us, 0)"),
        )
    },
    "cost_incidents": "CASE WHEN cost THEN 1 ELSE 0 END",
    "cost_total": "COALESCE(cost_amount, 0)",
    "cost_seconds": "COALESCE(cost_seconds, 0)",
}


def contribution(member: dict[str, Any]) -> dict[str, Any]:
    """What a member adds to its day's rollup row: DAY_SUMS for one row, in Python."""
    out = {
        "incidents": 1,
        "repeats": int(member["repeat"]),
        "cost_incidents": int(member["cost"]),
        "cost_total": member["cost_amount"] or 0,
        "cost_seconds": member["cost_seconds"] or 0,
    }
    for flag in (
        "resolved",
        "auto_resolved",
        "reopened",
        "repeated",
        "response_settled",
        "response_met",
        "resolution_settled",
        "resolution_met",
    ):
        out[flag] = int(member[flag])
    for name in CLOCK_NAMES:
        us = member[f"{name}_us"]
        out[f"{name}_n"] = int(us is not None)
        out[f"{name}_days"] = whole_days(us) if us is not None else 0
        out[f"{name}_us"] = us or 0
    return out
