"""From an event to its Delivery rows: the rules that match, the channels and people they name,
and bundling (at most one message per incident per window; extra events fold into the next)."""

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q, prefetch_related_objects
from django.utils import timezone

from actions.models.run import APPROVE_PERMISSION
from common.tasks import enqueue_on_commit
from incidents.choices import Role
from incidents.models import Incident, RoleAssignment
from notifications.choices import Audience, ContactKind, DeliveryStatus, RecipientRole
from notifications.models import Channel, ContactMethod, Delivery, NotificationRule
from notifications.rendering.render import kind_audience, speaks_to_customers
from notifications.selectors import rules_enabled

SEND_TASK = "notifications.tasks.delivery_send"
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recipient:
    target_key: str
    channel: Channel | None = None
    user: User | None = None
    contact_kind: str = ""
    address: str = ""
    # A page waits each contact method's own delay (SMS at once, email a minute later, ...).
    delay_seconds: float = 0


def rule_matches(rule: NotificationRule, kind: str, incident: Incident | None) -> bool:
    if kind not in rule.event_kinds:
        return False
    priorities = {priority.pk for priority in rule.priorities.all()}
    services = {service.pk for service in rule.services.all()}
    if not (priorities or services or rule.teams):
        return True
    if incident is None:
        return False  # A rule narrowed to priorities or services speaks of incidents only.
    if priorities and incident.priority_id not in priorities:
        return False
    incident_services = list(incident.services.all())
    if services and not services & {service.pk for service in incident_services}:
        return False
    return not rule.teams or bool(set(rule.teams) & {service.owner_team for service in incident_services})


def _role_users(rule: NotificationRule, incident: Incident | None) -> list[User]:
    users: list[User] = []
    roles = set(rule.roles)
    if incident is not None:
        if RecipientRole.COMMANDER in roles and incident.commander:
            users.append(incident.commander)
        if RecipientRole.ASSIGNEE in roles and incident.assignee:
            users.append(incident.assignee)
        wanted = [role for role in (Role.COMMUNICATIONS_LEAD, Role.TECHNICAL_LEAD) if role in roles]
        if wanted:
            assigned = RoleAssignment.objects.filter(incident=incident, role__in=wanted).select_related(
                "user"
            )
            users.extend(assignment.user for assignment in assigned)
        if RecipientRole.SERVICE_OWNERS in roles:
            teams = {service.owner_team for service in incident.services.all() if service.owner_team}
            users.extend(User.objects.filter(is_active=True, groups__name__in=teams).distinct())
    if RecipientRole.APPROVERS in roles:
        users.extend(approvers())
    # Users and groups come prefetched with the rules (selectors.rules_enabled): no query for the
    # rules that name none, which is most of them.
    users.extend(user for user in rule.users.all() if user.is_active)
    groups = list(rule.groups.all())
    if groups:
        users.extend(User.objects.filter(is_active=True, groups__in=groups).distinct())
    return users


def approvers() -> list[User]:
    """Active users who may approve action runs (the permission, by group or directly, or superuser)."""
    app, codename = APPROVE_PERMISSION.split(".")
    granted = (
        Q(is_superuser=True)
        | Q(user_permissions__codename=codename, user_permissions__content_type__app_label=app)
        | Q(groups__permissions__codename=codename, groups__permissions__content_type__app_label=app)
    )
    return list(User.objects.filter(granted, is_active=True).distinct().order_by("username"))


def person_recipients(user: User, kinds: list[str]) -> list[Recipient]:
    """The user's enabled contact methods of `kinds`; for email, the account's address when the
    user set up none."""
    own = list(user.contact_methods.all())
    methods = [method for method in own if method.enabled and method.kind in kinds]
    # A disabled email method still counts as set up: its owner turned email off, so no fallback.
    if ContactKind.EMAIL in kinds and user.email and not any(m.kind == ContactKind.EMAIL for m in own):
        methods.append(ContactMethod(user=user, kind=ContactKind.EMAIL, address=user.email))
    return [
        Recipient(
            target_key=person_target_key(user, method.kind, method.address),
            user=user,
            contact_kind=method.kind,
            address=method.address,
        )
        for method in methods
    ]


def person_target_key(user: User, kind: str, address: str) -> str:
    # Addresses run longer than the key column: a digest keeps two long ones apart.
    return f"u:{user.pk}:{kind}:{hashlib.sha256(address.encode()).hexdigest()[:32]}"


def recipients_for(rule: NotificationRule, incident: Incident | None, kind: str) -> list[Recipient]:
    # A customer channel hears only of the kinds that have a customer notice: an internal update,
    # an SLA breach or a failed run is never worded for customers, whatever a broad rule says; nor
    # is a drill.
    found = [
        Recipient(target_key=f"c:{channel.pk}", channel=channel)
        for channel in rule.channels.all()
        if channel.enabled
        and (
            not speaks_to_customers(channel.config)
            or (
                kind_audience(kind, channel.config) == Audience.CUSTOMER
                and not (incident and incident.is_drill)
            )
        )
    ]
    people: dict[int, User] = {}
    for user in _role_users(rule, incident):
        if user.is_active:  # A deactivated commander hears nothing more.
            people.setdefault(user.pk, user)
    # Everyone's contact methods in one query, not one per person.
    prefetch_related_objects(list(people.values()), "contact_methods")
    for user in people.values():
        found.extend(person_recipients(user, rule.person_kinds))
    return found


def events_route(*, events: list[dict[str, Any]]) -> list[Delivery]:
    """Route events recorded together (notifications.events), each on its own as `event_route`
    does, with the rules read once. One that fails does not hold back the others: it is logged and
    its error raised once the rest are routed. Idempotent by event key, like `event_route`."""
    rules = rules_enabled()
    created: list[Delivery] = []
    failed: Exception | None = None
    for event in events:
        try:
            created.extend(event_route(event=event, rules=rules))
        except Exception as error:
            logger.exception("Routing event %s (%s) failed", event.get("key"), event.get("kind"))
            failed = failed or error
    if failed is not None:
        raise failed
    return created


def event_route(*, event: dict[str, Any], rules: list[NotificationRule] | None = None) -> list[Delivery]:
    """Create the deliveries of one event (idempotent by event key) and enqueue their sending.
    `rules`: the enabled rules (selectors.rules_enabled) when the caller read them already."""
    kind = event["kind"]
    incident = None
    if event.get("incident"):
        incident = (
            Incident.objects.select_related("priority", "commander", "assignee")
            .prefetch_related("services")
            .filter(pk=event["incident"])
            .first()
        )
        if incident is None:
            return []  # Deleted meanwhile: nobody to tell about it.
    planned: dict[str, tuple[NotificationRule, Recipient]] = {}
    for rule in rules_enabled() if rules is None else rules:
        if not rule_matches(rule, kind, incident):
            continue
        for recipient in recipients_for(rule, incident, kind):
            planned.setdefault(recipient.target_key, (rule, recipient))
        if rule.stop:
            break
    if not planned:
        return []
    return deliveries_create(event=event, incident=incident, planned=list(planned.values()))


def deliveries_create(
    *,
    event: dict[str, Any],
    incident: Incident | None,
    planned: list[tuple[NotificationRule | None, Recipient]],
) -> list[Delivery]:
    now = timezone.now()
    created: list[Delivery] = []
    with transaction.atomic():
        if incident is not None and any(rule and rule.bundle_seconds for rule, _ in planned):
            # Bundling reads the last deliveries of this incident: one router at a time per incident.
            Incident.objects.select_for_update(of=("self",)).filter(pk=incident.pk).first()
        for rule, recipient in planned:
            delivery = Delivery(
                event_key=event["key"],
                target_key=recipient.target_key,
                event_kind=event["kind"],
                event=event,
                incident=incident,
                rule=rule,
                channel=recipient.channel,
                user=recipient.user,
                contact_kind=recipient.contact_kind,
                address=recipient.address,
                next_attempt_at=now + timedelta(seconds=recipient.delay_seconds),
                task_id=uuid.uuid4().hex,
            )
            if incident is not None and rule is not None and rule.bundle_seconds:
                _bundle(delivery, window=timedelta(seconds=rule.bundle_seconds), now=now)
            try:
                with transaction.atomic():
                    delivery.save()
            except IntegrityError:
                continue  # This event reached this target already (a repeated route message).
            created.append(delivery)
            if delivery.status == DeliveryStatus.PENDING:
                delivery_enqueue(delivery)
    return created


def _bundle(delivery: Delivery, *, window: timedelta, now) -> None:
    """Fold into the target's last message for this incident when it is still pending and of the
    same kind, or hold until the window since that message has passed.

    Only the same kind folds: a resolution folded into a waiting "alerts joined" message would be
    told under that message's subject, and read as more of the same. A different kind waits its own
    turn after the last message, so the target still gets one message per window, in order."""
    same = Delivery.objects.filter(incident=delivery.incident, target_key=delivery.target_key).exclude(
        status=DeliveryStatus.BUNDLED
    )
    last = same.order_by("-next_attempt_at", "-id").first()
    if last is None:
        return
    if last.status == DeliveryStatus.PENDING and last.event_kind == delivery.event_kind:
        delivery.fold()
        delivery.bundled_into = last
        return
    if last.status == DeliveryStatus.PENDING or last.next_attempt_at > now - window:
        delivery.next_attempt_at = max(now, last.next_attempt_at + window)


def delivery_enqueue(delivery: Delivery) -> None:
    eta = delivery.next_attempt_at if delivery.next_attempt_at > timezone.now() else None
    enqueue_on_commit(SEND_TASK, task_id=delivery.task_id, eta=eta, delivery_id=delivery.pk)
