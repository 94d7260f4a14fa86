"""Synthetic incident history for the analytics dashboard and its benchmark.

`history_plan` draws plain, deterministic plans (a seeded `random.Random`, a fixed end) for
incidents with their alerts, action runs, post-mortems and action items; `history_write` stores them
with `bulk_create` in batches. Both bypass the services on purpose: this is history that already
happened, not state changes to make now, and going through the services (row locks, timeline
writes, Celery hooks, one transaction per step) would take minutes for a year of incidents. The
writer keeps what the services guarantee: timestamps in order, SLA due and breach times from the
priority, auto-resolution only with a succeeded automated run, a closed P1/P2 only with its
post-mortem in review or published, and references numbered through IncidentSequence.

Generated incidents carry MARKER at the start of their description; `history_clear` removes them and
the rows hanging off them, and nothing else.
"""

from demo.history.data import BATCH_SIZE, MARKER
from demo.history.events import history_clear, history_exists, history_incidents
from demo.history.plan import history_plan
from demo.history.plans import catalog_ensure
from demo.history.write import history_write

__all__ = [
    "BATCH_SIZE",
    "MARKER",
    "catalog_ensure",
    "history_clear",
    "history_exists",
    "history_incidents",
    "history_plan",
    "history_write",
]
