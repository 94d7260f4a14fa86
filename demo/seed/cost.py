"""The demo's hourly rates, one per demo team (Platform is left on the default rate, to show it),
and every incident's cost computed once the demo and its history are written. Rates go through the
same service as the admin and the API; safe to run again (a team's rate is set only once)."""

from decimal import Decimal

from analytics.models import HourlyRate
from analytics.services.cost import hourly_rate_save, incident_costs_refresh
from common.actor import Actor, Source
from incidents.models import Incident

RATES = {
    "Storefront": Decimal("95"),
    "Payments": Decimal("120"),
    "Data platform": Decimal("110"),
    "Identity": Decimal("105"),
    "Storage": Decimal("85"),
    "Network": Decimal("100"),
    "Discovery": Decimal("90"),
}


def cost_ensure() -> dict[str, int]:
    by = Actor.system(Source.SYSTEM, label="seed_demo")
    existing = set(HourlyRate.objects.values_list("team", flat=True))
    added = 0
    for team, rate in RATES.items():
        if team not in existing:
            hourly_rate_save(by=by, team=team, rate=rate)
            added += 1
    return {"rates": added, "incidents": incident_costs_refresh(incidents=Incident.objects.all())}


def cost_lines(*, base: str, cost: dict[str, int]) -> list[str]:
    return [
        "",
        f"  Cost: {len(RATES)} team hourly rates ({cost['rates']} new), {cost['incidents']} incident costs "
        f"computed; rates at {base}/admin/analytics/hourlyrate/",
    ]
