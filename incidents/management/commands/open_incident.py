"""Open an incident from a script or a shell: prints only the new reference, so

REF=$(python manage.py open_incident --priority P2 --service web --title "Checkout returns 502")
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from common.actor import Actor, Source
from incidents.models import Priority, Service, TimelineEvent
from incidents.services import incident_create

# The source is recorded as the timeline's actor name.
MAX_SOURCE = TimelineEvent._meta.get_field("actor_name").max_length


class Command(BaseCommand):
    help = "Open an incident as the system and print its reference."

    def add_arguments(self, parser):
        parser.add_argument("--title", required=True)
        parser.add_argument("--priority", required=True, help="Priority code, P1 (most urgent) to P5.")
        parser.add_argument(
            "--service",
            action="append",
            default=[],
            dest="services",
            metavar="SLUG",
            help="Affected service, by slug or name; repeat for several.",
        )
        parser.add_argument("--description", default="")
        parser.add_argument(
            "--source",
            default="cli",
            help="What is opening the incident (e.g. log-monitor); recorded on the timeline.",
        )
        parser.add_argument("--drill", action="store_true", help="An exercise, kept out of analytics.")

    def handle(self, *args, **options):
        code = options["priority"].strip().upper()
        priority = Priority.objects.filter(code=code).first()
        if priority is None:
            known = ", ".join(Priority.objects.values_list("code", flat=True))
            raise CommandError(f"Unknown priority {options['priority']!r}; choose one of {known}.")

        services = []
        for wanted in options["services"]:
            service = Service.objects.filter(Q(slug=wanted) | Q(name__iexact=wanted)).first()
            if service is None:
                raise CommandError(
                    f"Unknown service {wanted!r}; give the slug or name of a service in the catalog."
                )
            services.append(service)

        source = options["source"].strip() or "cli"
        if len(source) > MAX_SOURCE:
            raise CommandError(f"--source is limited to {MAX_SOURCE} characters.")
        try:
            incident = incident_create(
                by=Actor.system(source=Source.CLI, label=source),
                title=options["title"],
                priority=priority,
                description=options["description"],
                services=services,
                is_drill=options["drill"],
            )
        except ValidationError as exc:
            raise CommandError(_describe(exc)) from exc
        self.stdout.write(incident.reference)


def _describe(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items())
    return " ".join(exc.messages)
