"""Demo data for `make run`: a service catalog, one user per group, two weeks of incidents, when
ALLOW_LOCAL_PROVIDER is on the action templates cloned onto the worker's own machine, and an
Alertmanager source with a rule whose automated response runs Health check, for send_test_alert.

Incidents and their post-mortems are written only through the services, each step run under a
scripted clock, so their timelines are what production would have written at those times. The P1
failover is the finished example: closed after its post-mortem was published, with action items.
Safe to run again: the catalog and users are topped up, incidents (and post-mortems) are created
only into an empty database, and every run prints fresh passwords.
"""

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from io import StringIO
from typing import Any
from unittest import mock

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from actions.choices import ProviderKind
from actions.models import Action, Provider
from actions.services import action_create_from_template, action_save, provider_save
from actions.template_library import template_list
from alerts.choices import IncidentPolicy, ResponseTrigger, SourceKind
from alerts.management.demo_tokens import demo_token_path, demo_token_write, demo_tokens_read
from alerts.models import AlertRule, AlertSource
from alerts.services import alert_rule_save, alert_source_create, alert_source_rotate_token, token_hash
from analytics.management.history import history_exists, history_incidents
from common.actor import Actor, Source
from common.selectors import api_token_list
from common.services import api_token_create, api_token_revoke
from incidents.choices import (
    DismissalReason,
    Phase,
    Role,
    RootCauseCategory,
    ServiceTier,
    ServiceType,
    UsersAffected,
    Visibility,
)
from incidents.management.run_banner import DEFAULT_WEB_URL, banner_write, local_web_url
from incidents.models import Incident, Priority, Service
from incidents.services import (
    incident_acknowledge,
    incident_auto_resolve,
    incident_close,
    incident_create,
    incident_dismiss,
    incident_hold,
    incident_note_add,
    incident_reopen,
    incident_resolve,
    incident_role_assign,
    incident_update,
    service_create,
    status_update_create,
)
from postmortems.choices import ActionItemKind, PostmortemStatus
from postmortems.models import ActionItem, Postmortem
from postmortems.services import (
    action_item_complete,
    action_item_create,
    action_item_start,
    postmortem_draft_for_resolved,
    postmortem_publish,
    postmortem_submit,
    postmortem_update,
)

RUNBOOKS = "https://runbooks.example.com"
SERVICES = [
    {
        "slug": "web",
        "name": "Web storefront",
        "type": ServiceType.WEB,
        "owner_team": "Storefront",
        "tier": ServiceTier.TIER_1,
        "description": "Customer-facing shop: catalog, cart and checkout.",
    },
    {
        "slug": "postgres-primary",
        "name": "PostgreSQL primary",
        "type": ServiceType.DATABASE,
        "owner_team": "Data platform",
        "tier": ServiceTier.TIER_1,
        "description": "Orders, customers and inventory; streaming replicas in two zones.",
    },
    {
        "slug": "auth-sso",
        "name": "Auth / SSO",
        "type": ServiceType.AUTH,
        "owner_team": "Identity",
        "tier": ServiceTier.TIER_1,
        "description": "Customer and staff sign-in, SAML and OIDC identity providers.",
    },
    {
        "slug": "object-storage",
        "name": "Object storage",
        "type": ServiceType.STORAGE,
        "owner_team": "Storage",
        "tier": ServiceTier.TIER_2,
        "description": "Product images, invoices and backups, replicated across regions.",
    },
    {
        "slug": "edge-network",
        "name": "Edge network",
        "type": ServiceType.NETWORK,
        "owner_team": "Network",
        "tier": ServiceTier.TIER_1,
        "description": "CDN, load balancers and DNS in front of every public endpoint.",
    },
    {
        "slug": "payments-api",
        "name": "Payments API",
        "type": ServiceType.WEB,
        "owner_team": "Payments",
        "tier": ServiceTier.TIER_1,
        "description": "Card and wallet payments through two acquirers.",
    },
    {
        "slug": "search",
        "name": "Search",
        "type": ServiceType.OTHER,
        "owner_team": "Discovery",
        "tier": ServiceTier.TIER_2,
        "description": "Product search and suggestions.",
    },
]
# username, first name, group (None: superuser), what they are for.
USERS = [
    ("admin", "Admin", None, "superuser"),
    ("alice", "Alice", "Responder", "Responder"),
    ("bob", "Bob", "Approver", "Approver"),
    ("carol", "Carol", "Viewer", "Viewer"),
]

# The demo's actions run on the worker itself ("make run" starts one). Only these are enabled there:
# they read, or write under /tmp. The others would change the machine (restart services, delete files,
# replace data); they are cloned disabled, to be pointed at a real host first.
LOCAL_PROVIDER = "this-worker"
DEMO_API_TOKEN_NAME = "seed_demo"
SAFE_ON_THE_WORKER = ("health-check", "log-collection")
DISABLED_NOTE = (
    "Disabled in the demo: it would change the machine the worker runs on. Point its steps at a real "
    "host (Providers) and enable it."
)


# The alert loop of the demo: send_test_alert posts InstanceDown for the web server as Prometheus
# would; the rule opens a P2 incident and runs Health check against the instance that alerted.
ALERT_SOURCE = {"name": "Prometheus", "slug": "prometheus", "kind": SourceKind.ALERTMANAGER}
ALERT_RULE = "Storefront instance down or slow"
# Health check looks at the web server the alert names. Its load limit is raised because the demo
# machine is a developer's, busy with builds and tests: a load spike there is not what the alert is about.
HEALTH_CHECK_PARAMETERS = {"endpoint": "http://{{ alert.labels.instance }}/admin/login/", "max_load": "8"}

# The finished example: the published post-mortem of the P1 database failover, and what it agreed.
FAILOVER_POSTMORTEM: dict[str, Any] = {
    "executive_summary": (
        "For 98 minutes the storefront could not take orders and customers could not sign in: the "
        "PostgreSQL primary lost its data disk, and although the replica was promoted within a minute, "
        "the application's connection pool kept connecting to the old primary by host address. A first "
        "fix was undone 20 minutes later when the pool recycled its connections. Pinning the pool to "
        "the database service address ended the outage. 14 orders had to be re-created by hand."
    ),
    "users_affected": "All storefront customers: about 52,000 sessions saw errors",
    "data_loss": True,
    "data_loss_details": (
        "14 orders committed in the last two seconds before the disk failed had not reached the "
        "replica. Support re-created them from the payment provider's records the next morning."
    ),
    "failed_transactions": "18,400 checkout attempts and 6,100 sign-ins failed",
    "financial_impact": "About EUR 31,000 in lost orders (from the same hours of the previous four weeks)",
    "detection": (
        "PostgresPrimaryDown fired in Alertmanager 3 minutes after the first write errors and paged "
        "the on-call responder, who acknowledged 3 minutes later. Customers reported failed checkouts "
        "on social media 6 minutes in."
    ),
    "root_cause": (
        "The primary's data disk failed. Automatic failover promoted the replica correctly, but every "
        "application server resolves the primary's host name once at start-up and the connection pool "
        "reconnects to that cached address, so the application kept writing to a dead host. The first "
        "fix repointed the running pools; their scheduled recycle 20 minutes later reconnected them to "
        "the cached old address."
    ),
    "five_whys": [
        {
            "question": "Why did checkout and sign-in fail?",
            "answer": "Every write went to the old primary, which had lost its data disk.",
        },
        {
            "question": "Why did the application write to the old primary after failover?",
            "answer": "Its connection pool reuses the address resolved at start-up, not the service address.",
        },
        {
            "question": "Why does the pool use a resolved address?",
            "answer": "The pool's configuration predates the move to a service address for the database.",
        },
        {
            "question": "Why was the old configuration not caught?",
            "answer": "Nothing checks pool targets, and failover has never been tested with the application.",
        },
        {
            "question": "Why has failover not been tested end to end?",
            "answer": "Game days covered the edge network only; no one owned a database failover drill.",
        },
    ],
    "contributing_factors": (
        "The first fix repointed running pools but not the configuration they recycle from.\n"
        "Alerting watches the database, not connection errors seen by the application.\n"
        "The replica promotion runbook stops at the database and says nothing about clients.\n"
        "Asynchronous replication allowed the last two seconds of writes to be lost."
    ),
    "resolution": (
        "Pinned the connection pool to the database service address on every application server and "
        "restarted the pools; write errors stopped at once and stayed at zero."
    ),
    "what_went_well": (
        "Automatic failover promoted the replica in under a minute.\n"
        "The page reached the on-call responder within 3 minutes, and roles were assigned at once.\n"
        "Public status updates went out within 8 minutes and every 30 minutes after."
    ),
    "what_could_be_improved": (
        "We declared the incident resolved before the pools had recycled once.\n"
        "Nobody knew which hosts the application actually connected to.\n"
        "Orders lost in replication were found by support, not by a check."
    ),
    "lessons_learned": (
        "A failover is finished when the clients follow it, not when the database does. Test it with "
        "the application attached, and wait one full pool recycle before calling it resolved."
    ),
    "supporting_links": [
        {"title": "Replica promotion runbook", "url": "https://runbooks.example.com/postgres-primary"},
        {
            "title": "Storefront database dashboard during the incident",
            "url": "https://grafana.example.com/d/pg-primary/postgres-primary?from=now-10d&to=now-9d",
        },
        {"title": "Pool pinned to the service address", "url": "https://git.example.com/shop/app/pull/4812"},
    ],
}
POOL_ALERT = "Alert on connection errors seen by the application, per target address."
POOL_ADDRESS = "Check in CI that every connection pool targets the database service address, never a host."
FAILOVER_RUNBOOK = (
    "Extend the replica promotion runbook: repoint clients, wait one pool recycle, verify writes."
)
FAILOVER_DRILL = "Run a database failover game day with the storefront attached, every quarter."


def failover_action_items(users: dict[str, Any], today: date) -> list[dict[str, Any]]:
    """Agreed at the review; by today one is done, one under way, one overdue and one not started."""
    return [
        {
            "description": POOL_ALERT,
            "kind": ActionItemKind.MONITORING,
            "owner": users["alice"],
            "due_date": today - timedelta(days=4),
        },
        {
            "description": POOL_ADDRESS,
            "kind": ActionItemKind.CONFIGURATION,
            "owner": users["bob"],
            "due_date": today + timedelta(days=5),
            "follow_up_url": "https://git.example.com/shop/app/issues/4820",
        },
        {
            "description": FAILOVER_RUNBOOK,
            "kind": ActionItemKind.RUNBOOK,
            "owner": users["alice"],
            "due_date": today - timedelta(days=2),
        },
        {
            "description": FAILOVER_DRILL,
            "kind": ActionItemKind.PROCESS,
            "owner": users["bob"],
            "due_date": today + timedelta(days=30),
        },
    ]


def web_url(path: str = "") -> str:
    return f"{local_web_url()}{path}"


@contextmanager
def scripted_clock(when: datetime) -> Iterator[None]:
    """Run services as if it were `when`. Demo only: the services then compute every timestamp,
    SLA due time and breach exactly as they would have at that moment, with nothing to fix up."""
    with mock.patch("django.utils.timezone.now", return_value=when):
        yield


class Story:
    """One incident told through the services, each step at its scripted time after detection."""

    def __init__(self, *, detected_at: datetime, impact_before: int = 0, **create: Any):
        self.t0 = detected_at
        with scripted_clock(detected_at):
            self.incident = incident_create(
                detected_at=detected_at, started_at=detected_at - timedelta(minutes=impact_before), **create
            )

    def at(self, minutes: int, service: Callable[..., Any], **kwargs: Any) -> "Story":
        """Run one service call as if it happened `minutes` after detection."""
        with scripted_clock(self.t0 + timedelta(minutes=minutes)):
            service(incident=self.incident, **kwargs)
        # Transitions compare the caller's status with the row's: always hand them a fresh copy.
        self.incident = Incident.objects.select_related("priority").get(pk=self.incident.pk)
        return self

    def postmortem(self, minutes: int, service: Callable[..., Any], **kwargs: Any) -> "Story":
        """Run a post-mortem service on this incident's post-mortem (a fresh copy: status changes
        compare the caller's status with the row's) as if `minutes` after detection."""
        with scripted_clock(self.t0 + timedelta(minutes=minutes)):
            service(postmortem=Postmortem.objects.get(incident=self.incident), **kwargs)
        return self

    def draft_postmortem(self, minutes: int) -> "Story":
        """What the worker does when a P1/P2 resolves: draft its post-mortem from the record."""
        with scripted_clock(self.t0 + timedelta(minutes=minutes)):
            postmortem_draft_for_resolved(incident_id=self.incident.pk)
        return self

    def action_item(self, minutes: int, *, by: Actor, **data: Any) -> "Story":
        with scripted_clock(self.t0 + timedelta(minutes=minutes)):
            action_item_create(postmortem=Postmortem.objects.get(incident=self.incident), by=by, data=data)
        return self

    def on_item(self, minutes: int, description: str, service: Callable[..., Any], **kwargs: Any) -> "Story":
        item = ActionItem.objects.get(postmortem__incident=self.incident, description=description)
        with scripted_clock(self.t0 + timedelta(minutes=minutes)):
            service(item=item, **kwargs)
        return self

    def finish(self) -> Incident:
        return self.incident


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
        with transaction.atomic():
            services, new_services = self._services()
            users, passwords = self._users()
            api_key = self._api_token(users["admin"])
            # Incidents only into an empty database: never mixed into someone's real ones.
            created = 0 if Incident.objects.exists() else len(self._incidents(services, users))
            new_actions = self._actions()
            alerting = self._alerting(services)
        # After commit: the file must never hold a token the database rolled back.
        demo_token_write(alerting["source"].slug, alerting["token"])
        history = self._history(load=bool(created) and not options["no_history"])
        self._report(new_services, created, users, passwords, api_key, new_actions, alerting)
        self.stdout.write(history)

    def _api_token(self, admin) -> str:
        """A fresh API token for the admin on every run, like the passwords: only its hash is
        stored, so the previous run's key cannot be printed again; that one is revoked."""
        for old in api_token_list(user=admin).filter(name=DEMO_API_TOKEN_NAME, revoked_at__isnull=True):
            api_token_revoke(token=old, by=None)
        _, key = api_token_create(user=admin, name=DEMO_API_TOKEN_NAME)
        return key

    def _services(self) -> tuple[dict[str, Service], int]:
        system = Actor.system(source=Source.CLI, label="seed_demo")
        existing = {s.slug: s for s in Service.objects.filter(slug__in=[d["slug"] for d in SERVICES])}
        new = 0
        for data in SERVICES:
            if data["slug"] not in existing:
                existing[data["slug"]] = service_create(
                    by=system, runbook_url=f"{RUNBOOKS}/{data['slug']}", **data
                )
                new += 1
        return existing, new

    def _users(self) -> tuple[dict[str, Any], dict[str, str]]:
        user_model = get_user_model()
        users, passwords = {}, {}
        for username, first_name, group, _ in USERS:
            user, _ = user_model.objects.get_or_create(
                username=username, defaults={"first_name": first_name, "email": f"{username}@example.com"}
            )
            user.is_staff = True
            user.is_active = True
            user.is_superuser = group is None
            passwords[username] = secrets.token_urlsafe(12)
            user.set_password(passwords[username])
            user.save()
            if group:
                user.groups.add(Group.objects.get(name=group))
            users[username] = user
        return users, passwords

    def _actions(self) -> int | None:
        """Clone every action template onto the local provider, once each; None when local providers
        are off (there is nowhere safe to run them)."""
        if not settings.ALLOW_LOCAL_PROVIDER:
            return None
        system = Actor.system(source=Source.CLI, label="seed_demo")
        provider = Provider.objects.filter(name=LOCAL_PROVIDER).first()
        if provider is None:
            provider = provider_save(
                by=system, data={"name": LOCAL_PROVIDER, "kind": ProviderKind.LOCAL, "tags": ["demo"]}
            )
        created = 0
        for template in template_list():
            if Action.objects.filter(template_key=template.key).exists():
                continue
            if Action.objects.filter(name=template.name).exists():
                continue  # Someone's own action took the name: leave it alone.
            action = action_create_from_template(by=system, template_key=template.key, target=provider)
            changes: dict[str, Any] = {}
            if template.key == "health-check":
                # The demo's web server is what listens on the worker: check it answers.
                changes["parameters"] = [
                    {**p, "default": web_url("/admin/login/")} if p["name"] == "endpoint" else p
                    for p in action.parameters
                ]
            if template.key not in SAFE_ON_THE_WORKER:
                changes["enabled"] = False
                changes["description"] = f"{DISABLED_NOTE}\n\n{action.description}"
            if changes:
                action_save(by=system, action=action, data=changes)
            created += 1
        return created

    def _alerting(self, services: dict[str, Service]) -> dict[str, Any]:
        """The Prometheus source and its rule, each created once. Sources keep only a hash of their
        token, so the demo's token lives in VAR_DIR/demo-alert-token; when that copy no longer
        matches (deleted, another checkout), the token is rotated so the printed one always works."""
        system = Actor.system(source=Source.CLI, label="seed_demo")
        slug = ALERT_SOURCE["slug"]
        source = AlertSource.objects.filter(slug=slug).first()
        status = "kept"
        if source is None:
            name = ALERT_SOURCE["name"]
            if AlertSource.objects.filter(name=name).exists():
                name = f"{name} (demo)"  # Someone's own source took the name: leave it alone.
            source, token = alert_source_create(
                by=system, name=name, slug=slug, kind=ALERT_SOURCE["kind"], default_service=services["web"]
            )
            status = "new"
        else:
            token = demo_tokens_read().get(slug, "")
            if not token or token_hash(token) != source.token_hash:
                token = alert_source_rotate_token(source=source, by=system)
                status = "rotated"

        rule = AlertRule.objects.filter(name=ALERT_RULE).first()
        new_rule = rule is None
        if new_rule:
            health_check = Action.objects.filter(template_key="health-check", enabled=True).first()
            responses = []
            if health_check is not None:
                responses.append(
                    {
                        "action": health_check,
                        "trigger": ResponseTrigger.IMMEDIATE,
                        "parameters": HEALTH_CHECK_PARAMETERS,
                    }
                )
            rule = alert_rule_save(
                by=system,
                data={
                    "name": ALERT_RULE,
                    "description": "Demo: an instance of the storefront is down or slow. Opens one P2 "
                    "incident per alert name and service, and runs Health check against the instance.",
                    "matchers": [{"label": "alertname", "op": "regex", "value": "InstanceDown|HighLatency"}],
                    "service": services["web"],
                    "priority": Priority.objects.filter(code="P2").first(),
                    "incident_policy": IncidentPolicy.ATTACH,
                    "group_by": ["alertname", "service"],
                },
                responses=responses,
            )
        return {"source": source, "token": token, "token_status": status, "rule": rule, "new_rule": new_rule}

    def _incidents(self, services: dict[str, Service], users: dict[str, Any]) -> list[Incident]:
        now = timezone.now().replace(second=0, microsecond=0)
        p = {priority.code: priority for priority in Priority.objects.all()}
        s = services
        alice = Actor(user=users["alice"], source=Source.ADMIN)
        bob = Actor(user=users["bob"], source=Source.API)
        alertmanager = Actor.system(source=Source.SYSTEM, label="alertmanager")
        grafana = Actor.system(source=Source.SYSTEM, label="grafana")
        remediation = Actor.system(source=Source.TASK, label="auto-remediation")
        public = Visibility.PUBLIC

        failover = (
            Story(
                detected_at=now - timedelta(days=9, hours=3),
                impact_before=3,
                by=alertmanager,
                title="Primary database failover",
                description="PostgresPrimaryDown fired; checkout and sign-in return 500.",
                priority=p["P1"],
                services=[s["postgres-primary"], s["web"]],
            )
            .at(3, incident_acknowledge, by=alice)
            .at(4, incident_role_assign, by=alice, role=Role.COMMANDER, user=users["bob"])
            .at(5, incident_role_assign, by=alice, role=Role.TECHNICAL_LEAD, user=users["alice"])
            .at(
                6,
                incident_update,
                by=alice,
                changes={"users_affected": UsersAffected.ALL, "services_down": 2},
            )
            .at(
                8,
                status_update_create,
                by=bob,
                message="Checkout and sign-in are failing. We are on it.",
                visibility=public,
            )
            .at(
                20,
                status_update_create,
                by=alice,
                phase=Phase.IDENTIFIED,
                message="The primary lost its data disk. The replica was promoted, but the app pool "
                "still points at the old primary.",
            )
            .at(28, status_update_create, by=alice, phase=Phase.FIXING, message="Repointing the pool.")
            .at(
                35,
                status_update_create,
                by=bob,
                phase=Phase.MONITORING,
                visibility=public,
                message="A fix is in place and we are monitoring.",
            )
            .at(50, incident_resolve, by=alice, summary="Pool repointed at the promoted replica.")
            .at(
                70,
                incident_reopen,
                by=alice,
                reason="Write errors again: the pool recycled to the old address.",
            )
            .at(
                75,
                status_update_create,
                by=alice,
                phase=Phase.FIXING,
                message="Pinning the pool to the service address instead of the host.",
            )
            .at(95, incident_resolve, by=alice, summary="Pool pinned to the service address and restarted.")
            .at(100, incident_update, by=alice, changes={"root_cause_category": RootCauseCategory.HARDWARE})
            .draft_postmortem(110)
            .postmortem(420, postmortem_update, by=alice, data=FAILOVER_POSTMORTEM)
            .postmortem(1080, postmortem_submit, by=alice)
            .postmortem(1440, postmortem_publish, by=bob)
        )
        today = timezone.localdate(now)
        for minutes, item in enumerate(failover_action_items(users, today), start=1445):
            failover.action_item(minutes, by=bob, **item)
        failover = (
            failover.at(1500, incident_close, by=bob, note="Post-mortem published; action items tracked.")
            .on_item(2900, POOL_ALERT, action_item_start, by=alice)
            .on_item(5800, POOL_ALERT, action_item_complete, by=alice)
            .on_item(7300, POOL_ADDRESS, action_item_start, by=bob)
            .finish()
        )
        duplicate = (
            Story(
                detected_at=failover.detected_at + timedelta(minutes=2),
                by=grafana,
                title="Checkout error rate above 5 %",
                priority=p["P3"],
                services=[s["web"]],
            )
            .at(
                12,
                incident_dismiss,
                by=alice,
                reason="Same outage as the database failover.",
                dismissal_reason=DismissalReason.DUPLICATE,
                duplicate_of=failover,
            )
            .finish()
        )
        drill = (
            Story(
                detected_at=now - timedelta(days=6, hours=5),
                by=bob,
                title="Game day: edge network region failover",
                description="Planned exercise: drain eu-west at the load balancers, fail over to eu-central.",
                priority=p["P3"],
                services=[s["edge-network"]],
                is_drill=True,
            )
            .at(1, incident_acknowledge, by=bob)
            .at(2, incident_role_assign, by=bob, role=Role.COMMANDER, user=users["bob"])
            .at(3, incident_role_assign, by=bob, role=Role.SCRIBE, user=users["alice"])
            .at(10, status_update_create, by=bob, phase=Phase.FIXING, message="eu-west drained.")
            .at(
                24, incident_note_add, by=alice, message="DNS TTL of 300 s delayed the shift by four minutes."
            )
            .at(40, status_update_create, by=bob, phase=Phase.MONITORING, message="Traffic on eu-central.")
            .at(45, incident_resolve, by=bob, summary="Failover in 9 minutes; TTL to be lowered to 60 s.")
            .at(60, incident_close, by=bob, note="Drill complete.")
            .finish()
        )
        sso = (
            Story(
                detected_at=now - timedelta(days=4, hours=2),
                impact_before=15,
                by=grafana,
                title="SSO login failures for EU users",
                priority=p["P2"],
                services=[s["auth-sso"]],
            )
            .at(4, incident_acknowledge, by=alice)
            .at(5, incident_role_assign, by=alice, role=Role.COMMANDER, user=users["alice"])
            .at(6, incident_role_assign, by=alice, role=Role.COMMUNICATIONS_LEAD, user=users["bob"])
            .at(
                10,
                status_update_create,
                by=bob,
                visibility=public,
                message="Some customers in Europe cannot sign in. We are investigating.",
            )
            .at(
                30,
                status_update_create,
                by=alice,
                phase=Phase.IDENTIFIED,
                message="The EU identity provider's signing certificate expired at 06:00 UTC.",
            )
            .at(38, status_update_create, by=alice, phase=Phase.FIXING, message="Rotating the certificate.")
            .at(
                50,
                status_update_create,
                by=bob,
                phase=Phase.MONITORING,
                visibility=public,
                message="Sign-in works again; we are monitoring.",
            )
            .at(
                65,
                incident_update,
                by=alice,
                changes={
                    "users_affected": UsersAffected.MANY,
                    "root_cause_category": RootCauseCategory.CONFIGURATION_CHANGE,
                },
            )
            .at(80, incident_resolve, by=alice, summary="Certificate rotated; expiry alert added at 30 days.")
            .draft_postmortem(81)
            .postmortem(
                1500,
                postmortem_update,
                by=alice,
                data={
                    "executive_summary": "For 95 minutes many customers in Europe could not sign in: the "
                    "EU identity provider's SAML signing certificate expired and nothing warned us.",
                    "root_cause": "The certificate was rotated by hand two years ago; its expiry was on "
                    "nobody's calendar and not monitored.",
                },
            )
            .finish()
        )
        storage_lag = (
            Story(
                detected_at=now - timedelta(days=2, hours=1),
                by=bob,
                title="Replication lag on object storage eu-west",
                priority=p["P3"],
                services=[s["object-storage"]],
            )
            .at(15, incident_acknowledge, by=bob)
            .at(
                20, status_update_create, by=bob, message="Lag at 40 minutes and growing; one shelf degraded."
            )
            .at(40, incident_note_add, by=bob, message="Vendor case 88213 opened for the failed disk shelf.")
            .at(
                45,
                incident_hold,
                by=bob,
                reason="Waiting on the vendor to replace the disk shelf (case 88213).",
            )
            .at(300, status_update_create, by=bob, message="Vendor engineer booked for tomorrow morning.")
            .finish()
        )
        disk = (
            Story(
                detected_at=now - timedelta(days=1, hours=6),
                by=alertmanager,
                title="Disk usage above 90 % on storage node sn-07",
                priority=p["P4"],
                services=[s["object-storage"]],
            )
            .at(
                12,
                incident_auto_resolve,
                by=remediation,
                summary="Log rotation freed 38 GB; the alert resolved.",
            )
            .finish()
        )
        latency = (
            Story(
                detected_at=now - timedelta(hours=3),
                impact_before=10,
                by=alice,
                title="Checkout latency above 2 s",
                priority=p["P3"],
                services=[s["web"], s["postgres-primary"]],
            )
            .at(6, incident_acknowledge, by=alice)
            .at(8, incident_role_assign, by=alice, role=Role.COMMANDER, user=users["alice"])
            .at(9, incident_role_assign, by=alice, role=Role.TECHNICAL_LEAD, user=users["bob"])
            .at(
                12,
                status_update_create,
                by=alice,
                message="p95 checkout latency at 2.4 s; looking at the database.",
            )
            .at(
                20,
                incident_update,
                by=alice,
                changes={
                    "priority": p["P2"],
                    "users_affected": UsersAffected.MANY,
                    "services_down": 1,
                },
            )
            .at(
                25,
                status_update_create,
                by=bob,
                visibility=public,
                message="Checkout is slow for some customers. We are investigating.",
            )
            .at(
                55,
                incident_note_add,
                by=bob,
                message="orders_by_customer switched to a sequential scan after last night's ANALYZE.",
            )
            .at(
                60,
                status_update_create,
                by=bob,
                phase=Phase.IDENTIFIED,
                message="A missing index on orders(customer_id, created_at).",
            )
            .at(
                95,
                status_update_create,
                by=bob,
                phase=Phase.FIXING,
                message="Building the index concurrently.",
            )
            .at(
                150,
                status_update_create,
                by=alice,
                phase=Phase.MONITORING,
                visibility=public,
                message="Checkout is fast again; we are monitoring.",
            )
            .finish()
        )
        fresh = Story(
            detected_at=now - timedelta(minutes=25),
            impact_before=7,
            by=alertmanager,
            title="Elevated 5xx rate on the storefront",
            description="HighErrorRate: 3.1 % of storefront requests return 5xx (threshold 1 %).",
            priority=p["P3"],
            services=[s["web"], s["payments-api"]],
        ).finish()
        return [failover, duplicate, drill, sso, storage_lag, disk, latency, fresh]

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
        self, new_services: int, created: int, users, passwords, api_key: str, new_actions, alerting
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
        lines += self._alerting_lines(base, alerting)
        lines.append("=" * 72)
        banner = "\n".join(lines)
        self.stdout.write(banner)
        # `make run` prints it again once its processes have started (manage.py demo_banner).
        banner_write(f"{banner.strip()}\n")

    def _alerting_lines(self, base: str, alerting: dict[str, Any]) -> list[str]:
        source, rule = alerting["source"], alerting["rule"]
        responses = ", ".join(str(r) for r in rule.responses.select_related("action")) or "no responses"
        token_note = {
            "new": "new",
            "kept": "unchanged",
            "rotated": "rotated: the previous one no longer works",
        }[alerting["token_status"]]
        # send_test_alert finds a running `make run` by itself; --url keeps the command right on
        # another port even when it does not (another terminal has no PORT).
        url_option = "" if base == DEFAULT_WEB_URL else f" --url {base}"
        return [
            "",
            f"  Alerts: {source.name} ({source.get_kind_display()}) posts to {base}/hooks/{source.slug}/",
            f"    Authorization: Bearer {alerting['token']}",
            f"    Token {token_note}; filed in {demo_token_path()} for send_test_alert.",
            f"    Rule: {rule.name} -> {responses}.",
            "  Send a test alert, then resolve it (alert -> incident -> Health check -> resolved):",
            f"    .venv/bin/python manage.py send_test_alert --source {source.slug}{url_option}",
            f"    .venv/bin/python manage.py send_test_alert --source {source.slug}{url_option} --resolve",
        ]
