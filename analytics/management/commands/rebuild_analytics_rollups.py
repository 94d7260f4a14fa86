"""Recompute the analytics rollups from the incidents: after a bulk load that bypassed the services
(COPY, a restore), after changing TIME_ZONE, or to repair them. Until the first run the analytics
selectors query the incidents directly. Safe to repeat."""

import time

from django.core.management.base import BaseCommand

from analytics.rollups.services import analytics_rollups_rebuild


class Command(BaseCommand):
    help = "Recompute the analytics rollups (per-day counts, sums and clock histograms) from the incidents."

    def handle(self, *args, **options):
        started = time.perf_counter()
        done = analytics_rollups_rebuild()
        self.stdout.write(f"Rolled up {done} incidents in {time.perf_counter() - started:.0f} s.")
