"""Routing and sending cost a fixed number of queries, whatever the number of services and people
involved: the worker's time is mostly spent waiting on the database (bench/notifications.py)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.choices import ContactKind, EventKind, RecipientRole
from notifications.models import Delivery
from tests.factories import ServiceFactory, UserFactory
from tests.notifications.support_flow import PREFIX, rule, webhook_channel

pytestmark = pytest.mark.django_db


def queries_per_task(worker, open_incident, services) -> dict[str, list[int]]:
    """The queries of each notification task run after an incident opens, a task's own only."""
    counts: dict[str, list[int]] = {"route": [], "send": []}
    run_task = worker.run_task

    def counted(name, ids, task_id=None):
        before = sum(counts["send"])
        with CaptureQueriesContext(connection) as queries:
            run_task(name, ids, task_id)  # Runs what the task enqueued too: taken off below.
        if name == PREFIX + "event_route":
            counts["route"].append(len(queries) - (sum(counts["send"]) - before))
        else:
            counts["send"].append(len(queries))

    worker.run_task = counted
    with worker.after():
        open_incident(services=services)
    return counts


@pytest.mark.parametrize("people", [1, 5])
def test_an_incident_opened_is_routed_and_sent_in_a_fixed_number_of_queries(
    people, worker, webhook_receiver, smtp, no_default_rules, open_incident
):
    services = ServiceFactory.create_batch(people)
    channel = webhook_channel(webhook_receiver)
    rule("Services", [EventKind.INCIDENT_OPENED], channels=[channel], services=services)
    users = UserFactory.create_batch(people, groups=["Responder"])
    rule("People", [EventKind.INCIDENT_OPENED], users=users, contact_kinds=[ContactKind.EMAIL])
    rule("Commander", [EventKind.INCIDENT_OPENED], roles=[RecipientRole.COMMANDER])

    counts = queries_per_task(worker, open_incident, services)

    assert Delivery.objects.filter(status="sent").count() == 1 + people
    # Incident and services 2, rules and their relations 6, contact methods 1; per delivery a
    # savepoint, the insert and its release (the test's transaction adds one savepoint pair).
    assert counts["route"] == [2 + 6 + 1 + 2 + 3 * (1 + people)]
    # Claim 4, bundled events 1, incident and services 2, template 1, record 5.
    assert counts["send"] == [13] * (1 + people)
