"""Demo data for `make run`: a service catalog, one user per group, two weeks of incidents, when
ALLOW_LOCAL_PROVIDER is on the action templates cloned onto the worker's own machine, an
Alertmanager source with a rule whose automated response runs Health check, for send_test_alert,
notification channels (Ops email, a webhook to `make run`'s receiver) with their rules, and an
on-call schedule with an escalation policy on the demo services, and the status page (components,
a resolved and an active public incident, a maintenance window), and hourly rates for the demo
teams with every incident's cost.

Incidents and their post-mortems are written only through the services, each step run under a
scripted clock, so their timelines are what production would have written at those times. The P1
failover is the finished example: closed after its post-mortem was published, with action items.
Safe to run again: the catalog and users are topped up, incidents (and post-mortems) are created
only into an empty database, and every run prints fresh passwords. Notifications are muted while
seeding: the demo's past incidents are not routed to anyone.
"""

from io import StringIO

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from actions.template_library import template_list
from analytics.rollups.services import analytics_rollups_rebuild
from common.events import listener_muted
from demo.banner import banner_write
from demo.history import history_exists, history_incidents
from demo.seed.alerting import alerting_ensure, alerting_lines
from demo.seed.catalog import (
    LOCAL_PROVIDER,
    SAFE_ON_THE_WORKER,
    USERS,
    actions_ensure,
    api_token_renew,
    services_ensure,
    users_ensure,
    web_url,
)
from demo.seed.cost import cost_ensure, cost_lines
from demo.seed.drills import drills_ensure, drills_lines
from demo.seed.incidents import incidents_tell
from demo.seed.notifications import notifications_ensure, notifications_lines, receiver_secret_write
from demo.seed.oncall import oncall_ensure, oncall_lines
from demo.seed.runbooks import captures_ensure, runbooks_ensure, snapshots_count
from demo.seed.statuspage import statuspage_ensure, statuspage_lines
from demo.tokens import demo_token_write
from incidents.models import Incident, Service
from postmortems.choices import PostmortemStatus
from postmortems.models import ActionItem, Postmortem


class Command(BaseCommand):
    help = "Load demo services, users and incidents (idempotent); prints fresh demo passwords."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off. It resets the demo users' passwords: never on a real install.",
        )
        parser.add_argument(
            "--no-history",
            action="store_true",
            help="Skip the synthetic year of history (generate_history) loaded with the demo incidents.",
        )

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "seed_demo resets the passwords of the users admin, alice, bob and carol, so it runs "
                "only with DEBUG on (as `make run` sets it). Pass --force to run it anyway."
            )
        # The demo's incidents happened in the past: routing them would post hundreds of messages
        # to the receiver and the Ops mailbox the moment the worker starts, and page people about them.
        with (
            listener_muted("notifications"),
            listener_muted("oncall"),
            listener_muted("statuspage"),
            # The demo requests captures itself, for the alert-opened incidents only (demo.seed.story).
            listener_muted("actions"),
            # Costs are computed all at once below, not by a task per timeline event.
            listener_muted("analytics-cost"),
            transaction.atomic(),
        ):
            services, new_services = services_ensure()
            users, passwords = users_ensure()
            api_key = api_token_renew(admin=users["admin"])
            new_actions = actions_ensure()
            # Before the incidents: those the demo's monitoring opened capture their services' state.
            captures = captures_ensure(services=services)
            # Incidents only into an empty database: never mixed into someone's real ones.
            created = 0 if Incident.objects.exists() else len(incidents_tell(services=services, users=users))
            alerting = alerting_ensure(services=services)
            runbooks = runbooks_ensure(services=services, rule=alerting["rule"])
            notifications = notifications_ensure()
            oncall = oncall_ensure(services=services, users=users)
            statuspage = statuspage_ensure(services=services)
            drills = drills_ensure(services=services, users=users, tell=bool(created))
        # After commit: the files must never hold a token or secret the database rolled back.
        demo_token_write(alerting["source"].slug, alerting["token"])
        if notifications["secret_status"] in ("new", "rotated"):
            receiver_secret_write(notifications["secret"])
        history = self._history(load=bool(created) and not options["no_history"])
        with transaction.atomic():
            cost = cost_ensure()
        # The history was written in bulk, past the services that keep the rollups: build them
        # once, so the dashboard reads the rollups as a real installation's does.
        analytics_rollups_rebuild()
        self._report(
            new_services,
            created,
            users,
            passwords,
            api_key,
            new_actions,
            alerting,
            notifications,
            oncall,
            statuspage,
            cost,
            drills,
        )
        self.stdout.write(
            f"Runbooks: {runbooks} new. State captures: {captures} services newly captured by Health "
            f"check; {snapshots_count()} snapshots on the alert-opened incidents (the worker runs them)."
        )
        self.stdout.write(history)

    def _history(self, *, load: bool) -> str:
        """A year of synthetic history for the analytics dashboard, loaded once: with the demo
        incidents, so never into a database that already held incidents of its own."""
        if history_exists():
            return f"History: {history_incidents().count()} generated incidents already present."
        if not load:
            return "History: none loaded (manage.py generate_history --incidents 300 --months 12 adds it)."
        call_command("generate_history", incidents=300, months=12, seed=7, stdout=StringIO())
        return f"History: {history_incidents().count()} generated incidents over 12 months, for analytics."

    def _report(
        self,
        new_services: int,
        created: int,
        users,
        passwords,
        api_key: str,
        new_actions,
        alerting,
        notifications,
        oncall,
        statuspage,
        cost,
        drills,
    ) -> None:
        base = web_url()
        incidents = (
            f"{created} demo incidents created"
            if created
            else f"{Incident.objects.count()} incidents already present, none added"
        )
        self.stdout.write(
            f"Services: {Service.objects.count()} ({new_services} new). Incidents: {incidents}."
        )
        published = Postmortem.objects.filter(status=PostmortemStatus.PUBLISHED).count()
        self.stdout.write(
            f"Post-mortems: {Postmortem.objects.count()} ({published} published), "
            f"{ActionItem.objects.count()} action items."
        )
        if new_actions is None:
            self.stdout.write("Actions: none added (ALLOW_LOCAL_PROVIDER is off: nowhere safe to run them).")
        else:
            safe = " and ".join(t.name for t in template_list() if t.key in SAFE_ON_THE_WORKER)
            self.stdout.write(
                f"Actions: {new_actions} new from the templates, on the local provider {LOCAL_PROVIDER}; "
                f"{safe} can run, the others are disabled there."
            )
        lines = [
            "",
            "=" * 72,
            "Mitigate demo",
            f"  Admin:     {base}/admin/",
            f"  Status:    {base}/status/",
            f"  API docs:  {base}/api/docs/",
            "",
            f"  {'user':<8} {'password':<20} role",
        ]
        lines += [f"  {name:<8} {passwords[name]:<20} {role}" for name, _, _, role in USERS]
        lines += [
            "",
            f"  API token (admin): {api_key}",
            f'  curl -H "Authorization: Token {api_key}" {base}/api/v1/incidents/',
            "",
            "  Passwords and the API token are new on every run of seed_demo (the old token is revoked).",
        ]
        if new_actions is not None:
            lines.append("  Try an action: open an incident, click Run action, pick Health check.")
        lines += alerting_lines(base=base, alerting=alerting)
        lines += notifications_lines(base=base, notifications=notifications)
        lines += oncall_lines(base=base, oncall=oncall)
        lines += statuspage_lines(base=base, statuspage=statuspage)
        lines += cost_lines(base=base, cost=cost)
        lines += drills_lines(base=base, drills=drills)
        lines.append("=" * 72)
        banner = "\n".join(lines)
        self.stdout.write(banner)
        # `make run` prints it again once its processes have started (manage.py demo_banner).
        banner_write(f"{banner.strip()}\n")
