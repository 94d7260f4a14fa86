"""The status page's write path: public incidents and maintenance move the components they name,
the worst word wins while several are open, ending one gives the components back, every change is
in the history, and bad input changes nothing."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from common.actor import Actor
from common.exceptions import PermissionDeniedError, TransitionNotAllowedError
from incidents.choices import EventKind
from incidents.models import TimelineEvent
from statuspage.choices import ComponentStatus as Status
from statuspage.choices import PublicStatus
from statuspage.models import Component, ComponentStatusChange, PublicIncident, PublicUpdate
from statuspage.services.components import component_status_set
from statuspage.services.public_incidents import (
    maintenance_schedule,
    maintenance_sweep,
    public_incident_edit,
    public_incident_open,
    public_update_post,
)
from tests.enqueued import enqueued

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()


def component(name: str) -> Component:
    return Component.objects.create(name=name)


def status_of(*components: Component) -> list[str]:
    return [Component.objects.get(pk=each.pk).status for each in components]


def test_components_follow_the_updates_of_an_incident():
    api, web = component("API"), component("Web")

    public = public_incident_open(
        by=SYSTEM,
        title="Slow checkout",
        message="We are looking into slow checkouts.",
        components={api: Status.PARTIAL_OUTAGE, web: Status.DEGRADED},
        notify=False,
    )
    assert status_of(api, web) == [Status.PARTIAL_OUTAGE, Status.DEGRADED]

    update = public_update_post(
        public_incident=public,
        by=SYSTEM,
        status=PublicStatus.IDENTIFIED,
        message="A database node is failing over.",
        components={api: Status.MAJOR_OUTAGE},
        notify=False,
    )
    assert status_of(api, web) == [Status.MAJOR_OUTAGE, Status.DEGRADED]
    assert update.affected_components[0] == {
        "code": str(api.pk),
        "name": "API",
        "old_status": Status.PARTIAL_OUTAGE,
        "new_status": Status.MAJOR_OUTAGE,
    }

    public_update_post(
        public_incident=public, by=SYSTEM, status=PublicStatus.RESOLVED, message="Fixed.", notify=False
    )
    public = PublicIncident.objects.get(pk=public.pk)
    assert public.status == PublicStatus.RESOLVED and public.resolved_at is not None
    assert status_of(api, web) == [Status.OPERATIONAL, Status.OPERATIONAL]
    history = list(ComponentStatusChange.objects.filter(component=api).values_list("status", flat=True))
    assert history == [Status.PARTIAL_OUTAGE, Status.MAJOR_OUTAGE, Status.OPERATIONAL]


def test_the_worst_open_incident_holds_a_component_until_it_ends_too():
    api = component("API")
    minor = public_incident_open(
        by=SYSTEM, title="Slow", message="Slow.", components={api: Status.DEGRADED}, notify=False
    )
    major = public_incident_open(
        by=SYSTEM, title="Down", message="Down.", components={api: Status.MAJOR_OUTAGE}, notify=False
    )
    # A later, milder word from the first incident does not hide the outage of the second.
    public_update_post(
        public_incident=minor, by=SYSTEM, status=PublicStatus.MONITORING, message="Better.", notify=False
    )
    assert status_of(api) == [Status.MAJOR_OUTAGE]

    public_update_post(
        public_incident=major, by=SYSTEM, status=PublicStatus.RESOLVED, message="Up.", notify=False
    )
    assert status_of(api) == [Status.DEGRADED]
    public_update_post(
        public_incident=minor, by=SYSTEM, status=PublicStatus.RESOLVED, message="Done.", notify=False
    )
    assert status_of(api) == [Status.OPERATIONAL]


def test_an_update_to_a_resolved_incident_reopens_it():
    api = component("API")
    public = public_incident_open(
        by=SYSTEM, title="Errors", message="Errors.", components={api: Status.PARTIAL_OUTAGE}, notify=False
    )
    public_update_post(public_incident=public, by=SYSTEM, status="resolved", message="Fixed.", notify=False)

    public_update_post(
        public_incident=public, by=SYSTEM, status=PublicStatus.INVESTIGATING, message="Back.", notify=False
    )

    public = PublicIncident.objects.get(pk=public.pk)
    assert public.status == PublicStatus.INVESTIGATING and public.resolved_at is None
    assert status_of(api) == [Status.PARTIAL_OUTAGE]


def test_maintenance_starts_and_ends_with_its_window():
    db = component("Database")
    now = timezone.now()
    window = maintenance_schedule(
        by=SYSTEM,
        title="Database upgrade",
        message="We will upgrade the database.",
        scheduled_for=now + timedelta(hours=1),
        scheduled_until=now + timedelta(hours=2),
        components=[db],
        notify=False,
    )
    assert maintenance_sweep(now=now) == {"started": 0, "completed": 0}
    assert status_of(db) == [Status.OPERATIONAL]

    assert maintenance_sweep(now=now + timedelta(minutes=61)) == {"started": 1, "completed": 0}
    assert status_of(db) == [Status.MAINTENANCE]
    assert maintenance_sweep(now=now + timedelta(minutes=62)) == {"started": 0, "completed": 0}

    assert maintenance_sweep(now=now + timedelta(hours=2)) == {"started": 0, "completed": 1}
    window = PublicIncident.objects.get(pk=window.pk)
    assert window.status == PublicStatus.COMPLETED
    assert status_of(db) == [Status.OPERATIONAL]
    assert [u.status for u in window.updates.order_by("created_at", "id")] == [
        PublicStatus.SCHEDULED,
        PublicStatus.IN_PROGRESS,
        PublicStatus.COMPLETED,
    ]
    with pytest.raises(TransitionNotAllowedError):
        public_update_post(
            public_incident=window, by=SYSTEM, status=PublicStatus.VERIFYING, message="Again?", notify=False
        )


def test_a_window_missed_entirely_is_completed_without_being_started():
    now = timezone.now()
    window = maintenance_schedule(
        by=SYSTEM,
        title="Cache flush",
        message="Flush.",
        scheduled_for=now - timedelta(hours=3),
        scheduled_until=now - timedelta(hours=2),
        components=[component("Cache")],
        notify=False,
    )
    assert maintenance_sweep(now=now) == {"started": 0, "completed": 1}
    window = PublicIncident.objects.get(pk=window.pk)
    assert window.status == PublicStatus.COMPLETED


def test_an_operator_sets_a_status_and_it_is_in_the_history(responder):
    api = component("API")
    component_status_set(component=api, status=Status.DEGRADED, by=Actor(user=responder, source="api"))
    component_status_set(component=api, status=Status.DEGRADED, by=Actor(user=responder, source="api"))

    assert status_of(api) == [Status.DEGRADED]
    assert ComponentStatusChange.objects.filter(component=api).count() == 1
    with pytest.raises(ValidationError) as refused:
        component_status_set(component=api, status="on_fire", by=SYSTEM)
    assert "status" in refused.value.message_dict


def test_bad_input_is_refused_field_by_field_and_changes_nothing():
    api = component("API")
    with pytest.raises(ValidationError) as refused:
        public_incident_open(
            by=SYSTEM,
            title="  ",
            message="",
            impact="apocalyptic",
            status=PublicStatus.RESOLVED,
            components={api: "on_fire"},
        )
    assert set(refused.value.message_dict) == {"title", "message", "impact", "status", "components"}
    now = timezone.now()
    with pytest.raises(ValidationError) as refused:
        maintenance_schedule(by=SYSTEM, title="x", message="y", scheduled_for=now, scheduled_until=now)
    assert "scheduled_until" in refused.value.message_dict
    assert not PublicIncident.objects.exists() and not PublicUpdate.objects.exists()
    assert status_of(api) == [Status.OPERATIONAL]


def test_a_maintenance_status_is_refused_for_an_incident_and_the_reverse():
    public = public_incident_open(by=SYSTEM, title="Errors", message="Errors.", notify=False)
    with pytest.raises(ValidationError):
        public_update_post(public_incident=public, by=SYSTEM, status=PublicStatus.IN_PROGRESS, message="x")
    with pytest.raises(ValidationError):
        public_incident_edit(public_incident=public, by=SYSTEM, impact="maintenance")
    assert public.updates.count() == 1


def test_posting_needs_the_permission(viewer, responder):
    with pytest.raises(PermissionDeniedError):
        public_incident_open(by=Actor(user=viewer, source="api"), title="x", message="y")
    public = public_incident_open(
        by=Actor(user=responder, source="api"), title="x", message="y", notify=False
    )
    assert public.updates.get().author == responder


def test_subscribers_are_told_after_commit_unless_asked_not_to(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        public = public_incident_open(by=SYSTEM, title="Errors", message="Errors.")
        public_update_post(public_incident=public, by=SYSTEM, status="identified", message="x", notify=False)
    assert enqueued(callbacks, "statuspage.") == ["statuspage.tasks.update_fan_out"]


def test_an_update_is_noted_on_the_linked_incident(open_incident):
    incident = open_incident()
    public = public_incident_open(
        by=SYSTEM, title="Errors on checkout", message="Looking.", incident=incident, notify=False
    )
    public_update_post(public_incident=public, by=SYSTEM, status="monitoring", message="A fix is out.")

    notes = TimelineEvent.objects.filter(
        incident=incident, kind=EventKind.NOTE, details__has_key="statuspage"
    )
    assert [note.message for note in notes.order_by("occurred_at", "id")] == [
        "Status page: Investigating: Looking.",
        "Status page: Monitoring: A fix is out.",
    ]
    with pytest.raises(TransitionNotAllowedError):
        public_incident_open(by=SYSTEM, title="Again", message="x", incident=incident)


def test_announcing_a_window_leaves_the_components_as_they_are():
    db = component("Database")
    component_status_set(component=db, status=Status.DEGRADED, by=SYSTEM)
    now = timezone.now()
    window = maintenance_schedule(
        by=SYSTEM,
        title="Upgrade",
        message="Next week.",
        scheduled_for=now + timedelta(days=7),
        scheduled_until=now + timedelta(days=7, hours=1),
        components=[db],
        notify=False,
    )
    assert status_of(db) == [Status.DEGRADED]
    assert window.updates.get().affected_components == []
