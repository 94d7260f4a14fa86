"""Public incidents and maintenance windows: opened, updated and ended only by a person posting (or
by the maintenance window's clock). Each update moves the incident's status, gives the components it
names their status for as long as it is open, tells subscribers, and notes itself on the Mitigate
incident's timeline."""

from collections.abc import Mapping
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from common.actor import Actor
from common.exceptions import TransitionNotAllowedError
from common.tasks import enqueue_on_commit
from incidents.choices import EventKind
from incidents.models import Incident, StatusUpdate
from incidents.services.timeline import timeline_event_record
from statuspage.cache import page_changed
from statuspage.choices import (
    ACTIVE,
    ENDED,
    INCIDENT_STATUSES,
    MAINTENANCE_STATUSES,
    ComponentStatus,
    Impact,
    Kind,
    PublicStatus,
    worst,
)
from statuspage.models import AffectedComponent, Component, PublicIncident, PublicUpdate
from statuspage.services.components import components_settle, status_check, status_record

POST_PERMISSION = "statuspage.add_publicupdate"
OPEN_PERMISSION = "statuspage.add_publicincident"
CHANGE_PERMISSION = "statuspage.change_publicincident"
FAN_OUT_TASK = "statuspage.tasks.update_fan_out"
MAX_MESSAGE = 10_000


def _text(value: str, field: str, limit: int, errors: dict) -> str:
    value = (value or "").strip()
    if not value:
        errors[field] = ["This field is required."]
    elif len(value) > limit:
        errors[field] = [f"At most {limit} characters."]
    return value


def _components_check(components: Mapping[Component, str], errors: dict) -> None:
    for component, status in components.items():
        try:
            status_check(status)
        except ValidationError:
            errors.setdefault("components", []).append(
                f"{component.name}: choose one of {', '.join(ComponentStatus.values)}."
            )


def public_incident_open(
    *,
    by: Actor,
    title: str,
    message: str,
    impact: str = Impact.MINOR,
    status: str = PublicStatus.INVESTIGATING,
    components: Mapping[Component, str] | None = None,
    incident: Incident | None = None,
    notify: bool = True,
    status_update: StatusUpdate | None = None,
) -> PublicIncident:
    """Open a public incident with its first update. `components` maps each affected component to
    the status it has while the incident is open."""
    by.require(OPEN_PERMISSION, "open public incidents")
    components = dict(components or {})
    errors: dict[str, list[str]] = {}
    title = _text(title, "title", 200, errors)
    message = _text(message, "message", MAX_MESSAGE, errors)
    if impact not in Impact.values or impact == Impact.MAINTENANCE:
        errors["impact"] = ["Choose none, minor, major or critical."]
    if status not in INCIDENT_STATUSES or status == PublicStatus.RESOLVED:
        errors["status"] = ["Choose investigating, identified or monitoring."]
    _components_check(components, errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if incident is not None:
            incident = Incident.objects.select_for_update(of=("self",)).get(pk=incident.pk)
            if PublicIncident.objects.filter(incident=incident).exists():
                raise TransitionNotAllowedError(
                    f"{incident.reference} already has a public incident: post an update to it."
                )
        now = timezone.now()
        public = PublicIncident(
            kind=Kind.INCIDENT, incident=incident, title=title, impact=impact, started_at=now
        )
        public.save()
        if status != PublicStatus.INVESTIGATING:
            public.move(status)
            public.save(update_fields=["status"])
        AffectedComponent.objects.bulk_create(
            AffectedComponent(public_incident=public, component=component, status=component_status)
            for component, component_status in components.items()
        )
        _update_create(
            public=public, by=by, status=status, message=message, notify=notify, status_update=status_update
        )
    return public


def maintenance_schedule(
    *,
    by: Actor,
    title: str,
    message: str,
    scheduled_for: datetime,
    scheduled_until: datetime,
    components: list[Component] | None = None,
    notify: bool = True,
) -> PublicIncident:
    """Announce a maintenance window: its components go under maintenance when it starts and back
    when it ends (maintenance_sweep, by beat)."""
    by.require(OPEN_PERMISSION, "schedule maintenance")
    errors: dict[str, list[str]] = {}
    title = _text(title, "title", 200, errors)
    message = _text(message, "message", MAX_MESSAGE, errors)
    if scheduled_for is None:
        errors["scheduled_for"] = ["This field is required."]
    if scheduled_until is None:
        errors["scheduled_until"] = ["This field is required."]
    elif scheduled_for is not None and scheduled_until <= scheduled_for:
        errors["scheduled_until"] = ["The window must end after it starts."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        public = PublicIncident(
            kind=Kind.MAINTENANCE,
            title=title,
            impact=Impact.MAINTENANCE,
            status=PublicStatus.SCHEDULED,
            started_at=scheduled_for,
            scheduled_for=scheduled_for,
            scheduled_until=scheduled_until,
        )
        public.save()
        AffectedComponent.objects.bulk_create(
            AffectedComponent(public_incident=public, component=component, status=ComponentStatus.MAINTENANCE)
            for component in dict.fromkeys(components or [])
        )
        _update_create(public=public, by=by, status=PublicStatus.SCHEDULED, message=message, notify=notify)
    return public


def public_update_post(
    *,
    public_incident: PublicIncident,
    by: Actor,
    status: str,
    message: str,
    components: Mapping[Component, str] | None = None,
    notify: bool = True,
    status_update: StatusUpdate | None = None,
) -> PublicUpdate:
    """Post an update: the incident moves to `status` (resolved/completed ends it); `components`
    (optional) adds or restates components and their statuses while it is open. A resolved
    incident takes an update that reopens it; a completed maintenance takes none."""
    by.require(POST_PERMISSION, "post status page updates")
    components = dict(components or {})
    errors: dict[str, list[str]] = {}
    message = _text(message, "message", MAX_MESSAGE, errors)
    allowed = INCIDENT_STATUSES if public_incident.kind == Kind.INCIDENT else MAINTENANCE_STATUSES
    if status not in allowed:
        errors["status"] = [f"Choose one of {', '.join(allowed)}."]
    _components_check(components, errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = PublicIncident.objects.select_for_update(of=("self",)).get(pk=public_incident.pk)
        if locked.status == PublicStatus.COMPLETED:
            raise TransitionNotAllowedError("The maintenance is over: schedule a new one.")
        for component, component_status in components.items():
            AffectedComponent.objects.update_or_create(
                public_incident=locked, component=component, defaults={"status": component_status}
            )
        update = _move(
            locked, by=by, status=status, message=message, notify=notify, status_update=status_update
        )
    return update


def _move(
    public: PublicIncident,
    *,
    by: Actor,
    status: str,
    message: str,
    notify: bool,
    status_update: StatusUpdate | None = None,
    at: datetime | None = None,
) -> PublicUpdate:
    """Under the incident's lock: the transition, the timestamps, then the update and its effects."""
    now = at or timezone.now()
    if status in ENDED:
        if public.status not in ENDED:
            public.end(status)
            public.resolved_at = now
    elif public.status != status:
        if public.status in ENDED:  # Reopened: the page shows it again as it was before.
            public.resolved_at = None
        public.move(status)
    if public.kind == Kind.MAINTENANCE and status == PublicStatus.IN_PROGRESS:
        public.started_at = min(public.started_at, now)
    public.save(update_fields=["status", "resolved_at", "started_at", "updated_at"])
    return _update_create(
        public=public,
        by=by,
        status=status,
        message=message,
        notify=notify,
        status_update=status_update,
        at=now,
    )


def _update_create(
    *,
    public: PublicIncident,
    by: Actor,
    status: str,
    message: str,
    notify: bool,
    status_update: StatusUpdate | None = None,
    at: datetime | None = None,
) -> PublicUpdate:
    """The update row and its effects: the components' statuses, the page's cache, the subscribers,
    the incident's timeline."""
    now = at or timezone.now()
    # In the components' order of primary key, as every writer locks them: no deadlock between two
    # incidents updating the same components.
    affected = list(
        AffectedComponent.objects.select_related("component")
        .filter(public_incident=public)
        .order_by("component_id")
    )
    changes = []
    if status in ACTIVE:
        for row in affected:
            component = Component.objects.select_for_update(of=("self",)).get(pk=row.component_id)
            old = component.status
            # The worst of this incident's word and the others' that name the component.
            others = AffectedComponent.objects.filter(
                component_id=component.pk, public_incident__status__in=ACTIVE
            ).exclude(public_incident=public)
            new = worst([row.status, *others.values_list("status", flat=True)])
            status_record(component=component, status=new, at=now, public_incident=public)
            changes.append(
                {"code": str(component.pk), "name": component.name, "old_status": old, "new_status": new}
            )
    elif status in ENDED:
        # Its components go back to what the other open incidents say, or operational.
        before = {row.component_id: row.component.status for row in affected}
        components_settle(component_ids=before, at=now, public_incident=public)
        after = dict(Component.objects.filter(pk__in=before).values_list("pk", "status"))
        changes = [
            {
                "code": str(row.component_id),
                "name": row.component.name,
                "old_status": before[row.component_id],
                "new_status": after[row.component_id],
            }
            for row in affected
        ]
    update = PublicUpdate.objects.create(
        public_incident=public,
        status=status,
        message=message,
        affected_components=changes,
        author=by.user,
        status_update=status_update,
        notify=notify,
    )
    page_changed()
    if notify:
        enqueue_on_commit(FAN_OUT_TASK, update_id=update.pk)
    if public.incident_id is not None:
        timeline_event_record(
            incident=public.incident,
            kind=EventKind.NOTE,
            by=by,
            message=f"Status page: {update.get_status_display()}: {message}",
            details={"statuspage": {"public_incident": public.pk, "update": update.pk, "status": status}},
            at=now,
        )
    return update


def public_incident_edit(
    *, public_incident: PublicIncident, by: Actor, title: str | None = None, impact: str | None = None
) -> PublicIncident:
    """Correct the title or impact (no update is posted, subscribers are not told)."""
    by.require(CHANGE_PERMISSION, "edit public incidents")
    errors: dict[str, list[str]] = {}
    if title is not None:
        title = _text(title, "title", 200, errors)
    if impact is not None and (
        impact not in Impact.values
        or (impact == Impact.MAINTENANCE) != (public_incident.kind == Kind.MAINTENANCE)
    ):
        errors["impact"] = ["Choose none, minor, major or critical."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = PublicIncident.objects.select_for_update(of=("self",)).get(pk=public_incident.pk)
        if title is not None:
            locked.title = title
        if impact is not None:
            locked.impact = impact
        locked.save(update_fields=["title", "impact", "updated_at"])
        page_changed()
    return locked


def maintenance_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Beat: start the windows whose time has come and complete those that are over. Each under its
    own lock, re-checked, so two sweeps (or an operator's hand) do each once."""
    now = now or timezone.now()
    counts = {"started": 0, "completed": 0}
    system = Actor.system(label="maintenance window")
    due_start = PublicIncident.objects.filter(
        kind=Kind.MAINTENANCE, status=PublicStatus.SCHEDULED, scheduled_for__lte=now, scheduled_until__gt=now
    ).values_list("pk", flat=True)
    for pk in list(due_start[:500]):
        with transaction.atomic():
            public = (
                PublicIncident.objects.select_for_update(of=("self",), skip_locked=True).filter(pk=pk).first()
            )
            if public is None or public.status != PublicStatus.SCHEDULED:
                continue
            _move(
                public,
                by=system,
                status=PublicStatus.IN_PROGRESS,
                message="The scheduled maintenance has begun.",
                notify=True,
                at=now,
            )
            counts["started"] += 1
    due_end = PublicIncident.objects.filter(
        kind=Kind.MAINTENANCE,
        status__in=(PublicStatus.SCHEDULED, PublicStatus.IN_PROGRESS, PublicStatus.VERIFYING),
        scheduled_until__lte=now,
    ).values_list("pk", flat=True)
    for pk in list(due_end[:500]):
        with transaction.atomic():
            public = (
                PublicIncident.objects.select_for_update(of=("self",), skip_locked=True).filter(pk=pk).first()
            )
            if public is None or public.status in ENDED:
                continue
            _move(
                public,
                by=system,
                status=PublicStatus.COMPLETED,
                message="The scheduled maintenance has been completed.",
                notify=True,
                at=now,
            )
            counts["completed"] += 1
    return counts
