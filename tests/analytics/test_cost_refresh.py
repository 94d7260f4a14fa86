"""Stored costs follow the record: a timeline event enqueues a refresh, the task stores it, the
sweep catches open incidents, lost refreshes and a new default rate, the command rebuilds all."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from analytics import tasks
from analytics.models import HourlyRate, IncidentCost, IncidentCostGroup
from analytics.services.cost import incident_costs_sweep
from incidents.choices import EventKind
from incidents.services import incident_acknowledge, incident_note_add, incident_resolve, incident_update
from tests.analytics.cost_support import event_at, hand_computed_incident
from tests.enqueued import enqueued
from tests.factories import IncidentFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_resolution_enqueues_the_refresh_and_a_note_does_not(
    open_incident, actor, django_capture_on_commit_callbacks
):
    """A note while open changes the cost only as time passes: the sweep and the resolution catch
    it, without a message per timeline event."""
    incident = open_incident()
    with django_capture_on_commit_callbacks() as callbacks:
        incident_note_add(incident=incident, by=actor, message="Looking.")
        incident = incident_acknowledge(incident=incident, by=actor)
    assert enqueued(callbacks, "analytics.") == []

    with django_capture_on_commit_callbacks() as callbacks:
        incident_resolve(incident=incident, by=actor, summary="Rolled back.")
    assert enqueued(callbacks, "analytics.") == ["analytics.tasks.incident_cost_refresh"]

    assert tasks.incident_cost_refresh(incident.pk) == "refreshed"
    cost = IncidentCost.objects.get(incident=incident)
    assert (cost.responders, cost.open, cost.team, cost.rate) == (1, False, "", Decimal("100.00"))
    assert tasks.incident_cost_refresh(incident.pk + 1000) == "gone"


def test_the_sweep_refreshes_open_incidents_missing_rows_and_old_default_rates(settings):
    now = timezone.now()
    user = UserFactory()
    still_open = IncidentFactory(detected_at=now - timedelta(hours=3))
    event_at(still_open, now - timedelta(hours=2), EventKind.NOTE, user)
    tasks.incident_cost_refresh(still_open.pk)
    IncidentCost.objects.filter(pk=still_open.pk).update(responder_seconds=1, amount=0)
    missing = IncidentFactory(detected_at=now - timedelta(hours=1))

    assert incident_costs_sweep() == 2
    grown = IncidentCost.objects.get(pk=still_open.pk)
    assert grown.responder_seconds >= 2 * 3600 and grown.amount >= Decimal("200.00")
    assert IncidentCost.objects.filter(pk=missing.pk, responders=0, amount=0).exists()

    settings.COST_DEFAULT_HOURLY_RATE = "50"
    incident_costs_sweep()
    assert IncidentCost.objects.get(pk=still_open.pk).rate == Decimal("50.00")


def test_the_sweep_picks_up_a_review_meeting_changed_after_the_cost():
    incident = hand_computed_incident()  # 980.00 with 4 invitees.
    tasks.incident_cost_refresh(incident.pk)
    postmortem = incident.postmortem
    assert incident_costs_sweep() == 0

    postmortem.review_attendees.set(postmortem.review_attendees.all()[:1])
    postmortem.save(update_fields=["updated_at"])
    assert incident_costs_sweep() == 1

    # 15,000 + 3,600 person-seconds at 120/h.
    assert IncidentCost.objects.get(pk=incident.pk).amount == Decimal("620.00")


def test_the_rebuild_command_recomputes_every_incident():
    incident = hand_computed_incident()
    IncidentCost.objects.filter(pk=incident.pk).delete()

    call_command("rebuild_incident_costs", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert IncidentCost.objects.get(pk=incident.pk).amount == Decimal("980.00")
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("rebuild_incident_costs", since="June")


def test_the_post_mortem_page_shows_the_cost_impact(admin_user, client):
    incident = hand_computed_incident()
    client.force_login(admin_user)

    page = client.get(reverse("admin:postmortems_postmortem_change", args=[incident.postmortem.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="postmortem-section-cost"' in html
    assert '<strong id="postmortem-cost-total">980.00 USD</strong>' in html


def test_changed_services_refresh_the_rate_and_the_groups(
    open_incident, actor, service_factory, django_capture_on_commit_callbacks
):
    web = service_factory(slug="web", owner_team="storefront", type="web")
    db = service_factory(slug="db", owner_team="data", type="database")
    HourlyRate.objects.create(team="data", rate=Decimal("80"))
    incident = open_incident(services=[web])
    tasks.incident_cost_refresh(incident.pk)
    assert set(IncidentCostGroup.objects.values_list("kind", "key")) == {
        ("team", "storefront"),
        ("service_type", "web"),
    }

    with django_capture_on_commit_callbacks() as callbacks:
        incident_update(incident=incident, by=actor, changes={"services": [db]})
    assert enqueued(callbacks, "analytics.") == ["analytics.tasks.incident_cost_refresh"]
    tasks.incident_cost_refresh(incident.pk)

    assert set(IncidentCostGroup.objects.values_list("kind", "key")) == {
        ("team", "data"),
        ("service_type", "database"),
    }
    assert IncidentCost.objects.get(pk=incident.pk).team == "data"
