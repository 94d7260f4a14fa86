"""Recompute every incident's stored cost from its record: after installing the cost feature, after
changing COST_DEFAULT_HOURLY_RATE, or to repair rows. Safe to run at any time and to repeat."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from analytics.services.cost import incident_costs_refresh
from incidents.models import Incident


class Command(BaseCommand):
    help = "Recompute the stored cost of every incident (or of those detected since --since)."

    def add_arguments(self, parser):
        parser.add_argument("--since", help="Only incidents detected on or after this date (YYYY-MM-DD).")

    def handle(self, *args, since: str | None = None, **options):
        incidents = Incident.objects.all()
        if since:
            try:
                day = date.fromisoformat(since)
            except ValueError as exc:
                raise CommandError(f"--since takes a date as YYYY-MM-DD, not {since!r}.") from exc
            incidents = incidents.filter(detected_at__date__gte=day)
        done = incident_costs_refresh(incidents=incidents)
        self.stdout.write(f"Recomputed the cost of {done} incidents.")
