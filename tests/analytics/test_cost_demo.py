"""The demo's teams have hourly rates and its incidents a cost (demo.seed.cost, from seed_demo)."""

from io import StringIO

import pytest
from django.core.management import call_command

from analytics.models import HourlyRate, IncidentCost
from incidents.models import Incident

pytestmark = pytest.mark.django_db


def test_seed_demo_prices_the_demo_incidents(settings, tmp_path):
    settings.DEBUG, settings.VAR_DIR, settings.WEB_PORT = True, tmp_path, 8000
    out = StringIO()

    call_command("seed_demo", "--no-history", stdout=out)

    assert HourlyRate.objects.filter(team="Payments", rate=120).exists()
    assert IncidentCost.objects.count() == Incident.objects.count() >= 8
    worked = IncidentCost.objects.filter(responders__gt=0, amount__gt=0)
    assert worked.exclude(team="").exists()
    assert "7 team hourly rates (7 new)" in out.getvalue()

    call_command("seed_demo", "--no-history", stdout=out)
    assert "7 team hourly rates (0 new)" in out.getvalue()
