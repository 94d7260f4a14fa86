"""seed_demo's status page: components for the demo services in groups, a resolved and an active
public incident (the active one linked to an open demo incident), maintenance in the coming days,
nothing sent to anyone, nothing added by a second run; the banner prints the page's URL."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from notifications.models import Delivery
from statuspage.choices import Kind, PublicStatus
from statuspage.models import Component, ComponentGroup, PublicIncident, PublicUpdate


@pytest.fixture(autouse=True)
def _demo(db, settings, tmp_path):
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", "--no-history", stdout=out)
    return out.getvalue()


def test_the_demo_status_page_once():
    out = seed()
    assert "/status/" in out and "Status page:" in out
    assert ComponentGroup.objects.count() == 3
    components = Component.objects.all()
    assert components.count() == 7 and all(component.services.exists() for component in components)
    incidents = PublicIncident.objects.filter(kind=Kind.INCIDENT)
    resolved = incidents.get(status=PublicStatus.RESOLVED)
    assert resolved.resolved_at < timezone.now() and resolved.updates.count() == 4
    active = incidents.exclude(status=PublicStatus.RESOLVED).get()
    assert active.incident is not None and active.incident.resolved_at is None
    assert active.title != active.incident.title  # Never the internal title.
    maintenance = PublicIncident.objects.get(kind=Kind.MAINTENANCE)
    assert maintenance.status == PublicStatus.SCHEDULED and maintenance.scheduled_for > timezone.now()
    assert not PublicUpdate.objects.filter(notify=True).exists()
    assert not Delivery.objects.filter(external="statuspage.subscriber").exists()
    counts = (Component.objects.count(), PublicIncident.objects.count(), PublicUpdate.objects.count())
    seed()
    assert (Component.objects.count(), PublicIncident.objects.count(), PublicUpdate.objects.count()) == counts
