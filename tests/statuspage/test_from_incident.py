"""A public status update posted on a Mitigate incident reaches the status page: it opens the
incident's public incident (under a title naming only components, never the internal title) or is
appended to it; it is carried once; a person who may not post to the page is told so on the
timeline; internal updates stay internal."""

import pytest
from django.contrib.auth.models import Permission

from common.actor import Actor, Source
from incidents.choices import EventKind, Phase, Visibility
from incidents.models import Priority, TimelineEvent
from incidents.services import incident_create
from incidents.services.lifecycle import incident_acknowledge
from incidents.services.status_updates import status_update_create
from statuspage import tasks
from statuspage.choices import ComponentStatus as Status
from statuspage.choices import Impact, PublicStatus
from statuspage.models import Component, PublicIncident, PublicUpdate
from statuspage.services.from_incident import status_update_publish
from tests.enqueued import enqueued
from tests.factories import ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db
INTERNAL_TITLE = "db-7 primary OOM-killed after bad deploy 4f2a (rollback pending)"


@pytest.fixture
def incident(responder):
    checkout = ServiceFactory(name="checkout-api")
    Component.objects.create(name="Checkout").services.add(checkout)
    Component.objects.create(name="Hidden", shown=False).services.add(checkout)
    Component.objects.create(name="Unrelated")
    by = Actor(user=responder, source=Source.ADMIN)
    return incident_create(
        by=by, title=INTERNAL_TITLE, priority=Priority.objects.get(code="P2"), services=[checkout]
    )


def post(incident, user, message: str, visibility=Visibility.PUBLIC, phase=""):
    return status_update_create(
        incident=incident,
        by=Actor(user=user, source=Source.ADMIN),
        message=message,
        visibility=visibility,
        phase=phase,
    )


def test_the_first_public_update_opens_a_public_incident_without_the_internal_title(
    incident, responder, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        update = post(incident, responder, "Some checkouts fail; we are investigating.")
    assert enqueued(callbacks, "statuspage.") == ["statuspage.tasks.status_update_publish"]

    tasks.status_update_publish(update.pk)

    public = PublicIncident.objects.get(incident=incident)
    assert public.title == "Service disruption affecting Checkout"
    assert INTERNAL_TITLE not in public.title
    assert public.impact == Impact.MAJOR  # P2
    assert public.status == PublicStatus.INVESTIGATING
    assert [c.name for c in public.components.all()] == ["Checkout"]  # shown ones only
    assert Component.objects.get(name="Checkout").status == Status.PARTIAL_OUTAGE
    [public_update] = public.updates.all()
    assert public_update.message == "Some checkouts fail; we are investigating."
    assert public_update.author == responder and public_update.status_update == update


def test_later_updates_follow_the_phase_and_are_carried_once(incident, responder):
    tasks.status_update_publish(post(incident, responder, "Investigating.").pk)
    incident_acknowledge(incident=incident, by=Actor(user=responder, source=Source.ADMIN))
    update = post(incident, responder, "Found it: a bad deploy.", phase=Phase.FIXING)

    tasks.status_update_publish(update.pk)
    tasks.status_update_publish(update.pk)  # a repeated message

    public = PublicIncident.objects.get(incident=incident)
    assert public.status == PublicStatus.IDENTIFIED
    assert public.updates.count() == 2


def test_internal_updates_stay_internal(incident, responder, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        update = post(incident, responder, "Rolling back 4f2a on db-7.", visibility=Visibility.INTERNAL)
    assert enqueued(callbacks, "statuspage.") == []
    assert status_update_publish(status_update=update) is None
    assert not PublicUpdate.objects.exists()


def test_a_person_without_the_page_permission_is_told_on_the_timeline(incident):
    author = UserFactory(username="outsider")
    author.user_permissions.add(Permission.objects.get(codename="add_statusupdate"))
    update = post(incident, author, "Customers see errors.")

    assert tasks.status_update_publish(update.pk) is None

    assert not PublicIncident.objects.exists()
    note = TimelineEvent.objects.filter(incident=incident, kind=EventKind.NOTE).latest("occurred_at")
    assert note.message.startswith("The public update was not posted to the status page: You may not")
