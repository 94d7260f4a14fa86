"""manage.py seed_drill_scenarios: add the five standard drill scenarios (by name; existing ones are
left as they are), opened directly as P3 drills until a team points them at its drill source."""

from django.core.management.base import BaseCommand

from common.actor import Actor, Source
from drills.services import drill_scenarios_seed_standard


class Command(BaseCommand):
    help = "Add the standard drill scenarios that do not exist yet."

    def handle(self, *args, **options) -> None:
        created = drill_scenarios_seed_standard(
            by=Actor.system(source=Source.CLI, label="seed_drill_scenarios")
        )
        for scenario in created:
            self.stdout.write(f"Added {scenario.name}")
        self.stdout.write(self.style.SUCCESS(f"{len(created)} scenario(s) added."))
