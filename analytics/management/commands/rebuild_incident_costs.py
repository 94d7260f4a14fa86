"""Recompute every incident's stored cost from its record: after installing the cost feature, after
changing COST_DEFAULT_HOURLY_RATE, or to repair rows. Safe to run at any time and to repeat."""

from django.core.management.base import BaseCommand

from analytics.services.cost import incident_costs_refresh
from incidents.models import Incident


class Command(BaseCommand):
    help = "Recompute the stored cost of every incident (or of those detected since --since)."

    def add_arguments(self, parser):
        parser.add_argument("--since", help="Only incidents detected on or after this date (YYYY-MM-DD).")

    def handle(self, *args, since: str | None = None, **options):
        incidents = Incident.objects.all()
        if since:
            incidents = incidents.filter(detected_at__date__gte=since)
        done = incident_costs_refresh(incidents=incidents)
        self.stdout.write(f"Recomputed the cost of {done} incidents.")
