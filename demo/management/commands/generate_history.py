from datetime import datetime, time, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from demo.history import (
    BATCH_SIZE,
    MARKER,
    catalog_ensure,
    history_clear,
    history_plan,
    history_write,
)


class Command(BaseCommand):
    help = (
        "Create a synthetic incident history (services of each type, priorities, root causes, alerts, "
        "automated and manual resolutions, SLA misses, reopens, drills, post-mortems with action items) "
        "so the analytics dashboard has something to show. The rows are written directly with "
        "bulk_create in batches, not through the services: this is history that already happened, not "
        "state changes to make now, and the services' locks, timeline writes and task hooks would "
        "take minutes for a year of incidents. Generated incidents start their description with "
        f"'{MARKER}'; --clear removes those (and their alerts, runs and post-mortems) and nothing else."
    )

    def add_arguments(self, parser):
        parser.add_argument("--incidents", type=int, default=1000, help="How many (default 1000).")
        parser.add_argument("--months", type=int, default=12, help="Spread over (default 12).")
        parser.add_argument("--seed", type=int, default=None, help="Same seed (and end), same history.")
        parser.add_argument(
            "--end",
            type=lambda v: datetime.strptime(v, "%Y-%m-%d").date(),
            default=None,
            help="Last day covered, YYYY-MM-DD (default: today, up to midnight).",
        )
        parser.add_argument("--clear", action="store_true", help="First remove previously generated history.")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)

    def handle(self, *args, **options):
        if options["incidents"] < 0 or options["months"] < 1:
            raise CommandError("--incidents must be 0 or more and --months at least 1.")
        if options["clear"]:
            removed = history_clear()
            self.stdout.write(
                f"Removed generated history: {removed['incidents']} incidents, {removed['alerts']} alerts, "
                f"{removed['runs']} runs, {removed['postmortems']} post-mortems."
            )
        if not options["incidents"]:
            return
        # Midnight (local) so that the same seed gives the same history all day long.
        day = options["end"] or timezone.localdate()
        end = timezone.make_aware(datetime.combine(day, time.min)) + (
            timedelta(days=1) if options["end"] else timedelta(0)
        )
        end = min(end, timezone.now())
        catalog = catalog_ensure()
        plans = history_plan(
            catalog=catalog,
            incidents=options["incidents"],
            months=options["months"],
            end=end,
            seed=options["seed"],
        )
        made = history_write(catalog=catalog, plans=plans, batch_size=options["batch_size"])
        self.stdout.write(
            f"Generated history over {options['months']} months: {made['incidents']} incidents "
            f"({made['auto_resolved']} auto-resolved, {made['reopened']} reopened, {made['drills']} drills), "
            f"{made['alerts']} alerts, {made['runs']} action runs, {made['postmortems']} post-mortems, "
            f"{made['action items']} action items, {made['timeline events']} timeline events."
        )
