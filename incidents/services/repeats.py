"""Repeat incidents: the same trouble again within 30 days. Marked on the incident when what decides
it changes (services, root cause, an alert joining), so analytics count a flag instead of searching
the history for every incident."""

from collections.abc import Collection
from datetime import timedelta

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Q

from incidents.derived import incidents_changed
from incidents.models import Incident

REPEAT_WINDOW = timedelta(days=30)


def incident_repeat_of(incident: Incident, *, names: Collection[str] | None = None) -> Incident | None:
    """The most recent incident detected in the 30 days before this one that shares a service with
    it and either an alert name or its (known) root-cause category; drills are no precedent.
    `names`: look only for a precedent by these alert names (see incident_repeat_mark)."""
    if names is None:
        same_trouble = Q(alerts__name__in=incident.alerts.exclude(name="").values("name"))
        if incident.root_cause_category:
            same_trouble |= Q(root_cause_category=incident.root_cause_category)
    else:
        same_trouble = Q(alerts__name__in=sorted({name for name in names if name}))
    return (
        Incident.objects.filter(
            same_trouble,
            detected_at__lt=incident.detected_at,
            detected_at__gte=incident.detected_at - REPEAT_WINDOW,
            services__in=incident.services.values("pk"),
            is_drill=False,
        )
        .exclude(pk=incident.pk)
        .order_by("-detected_at", "-pk")
        .first()
    )


def incident_repeat_mark(*, incident: Incident, names: Collection[str] | None = None) -> bool:
    """Set `is_repeat` from the current services, root cause and alerts; returns the flag. Called
    inside the transaction of the change that may alter it.

    `names` are the alert names that just joined the incident, when nothing else changed: more
    names only find more precedents, so a repeat stays one and one that is not can become one only
    through these names, which spares reading every alert of a big incident again."""
    if names is not None:
        if incident.is_repeat:
            return True
        repeat = incident_repeat_of(incident, names=names) is not None
    else:
        repeat = incident_repeat_of(incident) is not None
    if repeat != incident.is_repeat:
        Incident.objects.filter(pk=incident.pk).update(is_repeat=repeat)
        incident.is_repeat = repeat
        incidents_changed([incident.pk])
    return repeat


# The same rule for a whole table at once on PostgreSQL (bulk loads, the migration that added the
# flag): the latest earlier detection per (service, alert name) and per (service, root cause), by
# window functions, joined back (an `id IN (...)` over a year of ids is no longer hashed).
MARK_REPEATS_POSTGRES = """
WITH base AS (
    SELECT i.id, i.detected_at, i.root_cause_category, s.service_id
    FROM incidents_incident i JOIN incidents_incident_services s ON s.incident_id = i.id
    WHERE NOT i.is_drill
), by_alert AS (
    SELECT DISTINCT b.id, b.detected_at, b.service_id, a.name
    FROM base b JOIN alerts_alert a ON a.incident_id = b.id WHERE a.name <> ''
), repeats AS (
    SELECT id FROM (
        SELECT id, detected_at,
               MAX(detected_at) OVER (PARTITION BY service_id, name ORDER BY detected_at
                                      RANGE BETWEEN UNBOUNDED PRECEDING AND '1 microsecond' PRECEDING)
                 AS previous
        FROM by_alert
    ) w WHERE previous >= detected_at - interval '30 days'
    UNION
    SELECT id FROM (
        SELECT id, detected_at,
               MAX(detected_at) OVER (PARTITION BY service_id, root_cause_category ORDER BY detected_at
                                      RANGE BETWEEN UNBOUNDED PRECEDING AND '1 microsecond' PRECEDING)
                 AS previous
        FROM base WHERE root_cause_category <> ''
    ) w WHERE previous >= detected_at - interval '30 days'
)
UPDATE incidents_incident SET is_repeat = true FROM repeats r WHERE incidents_incident.id = r.id
"""


def incidents_repeat_backfill_postgres(*, connection: BaseDatabaseWrapper) -> int:
    """Mark every incident of the table in one statement; returns how many are repeats."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE incidents_incident SET is_repeat = false WHERE is_repeat")
        cursor.execute(MARK_REPEATS_POSTGRES)
        return cursor.rowcount
