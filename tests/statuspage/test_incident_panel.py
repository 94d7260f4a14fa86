"""The Status page panel on a Mitigate incident's page: a prefilled form (public title, impact and
components suggested, the customer notice as message; never the internal title), the linked public
incident with its links, and "Post the resolved update" once the incident is resolved; nothing is
published until the form is posted."""

import pytest
from django.urls import reverse

from common.actor import Actor, Source
from incidents.choices import Visibility
from incidents.services import incident_acknowledge, incident_resolve, status_update_create
from statuspage.choices import PublicStatus
from statuspage.models import Component, PublicIncident

pytestmark = pytest.mark.django_db
INTERNAL = "Secret internal title db-7 credentials"


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def incident(open_incident, service_factory):
    return open_incident(title=INTERNAL, services=[service_factory()])


def incident_page(client, incident) -> str:
    response = client.get(reverse("admin:incidents_incident_change", args=[incident.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_post_to_the_status_page_prefilled_without_the_internal_title(staff, incident):
    component = Component.objects.create(name="Checkout")
    component.services.set(incident.services.all())
    page = incident_page(staff, incident)
    assert 'id="incident-statuspage-open"' in page
    form_url = f"{reverse('admin:statuspage_publicincident_open')}?incident={incident.pk}"
    form = staff.get(form_url)
    text = form.content.decode()
    assert "Service disruption affecting Checkout" in text
    assert "Our team is actively investigating" in text  # The customer notice.
    assert INTERNAL not in text.split('id="statuspage-form"')[1]
    assert not PublicIncident.objects.exists()  # Nothing is published by opening the form.
    fields = form.context["form"].initial
    posted = staff.post(
        form_url,
        {
            "title": fields["title"],
            "impact": fields["impact"],
            "status": "investigating",
            "message": fields["message"],
            f"component_{component.pk}": "partial_outage",
            "notify": "",
        },
    )
    assert posted.status_code == 302
    public = PublicIncident.objects.get()
    assert public.incident == incident and INTERNAL not in public.title
    page = incident_page(staff, incident)
    assert public.title in page and 'id="incident-statuspage-public"' in page
    assert 'id="incident-statuspage-resolved"' not in page


def test_post_the_resolved_update_once_resolved(staff, incident, responder):
    by = Actor(user=responder, source=Source.ADMIN)
    status_update_create(incident=incident, by=by, message="We found it.", visibility=Visibility.PUBLIC)
    staff.post(
        f"{reverse('admin:statuspage_publicincident_open')}?incident={incident.pk}",
        {"title": "Checkout errors", "impact": "minor", "status": "investigating", "message": "Looking."},
    )
    public = PublicIncident.objects.get()
    update_form = staff.get(
        reverse("admin:statuspage_publicincident_post", args=[public.pk])
    ).content.decode()
    assert "We found it." in update_form  # The public update fills the notice in.
    incident = incident_acknowledge(incident=incident, by=by)
    incident_resolve(incident=incident, by=by, summary="Internal: rotated db-7 credentials")
    public = PublicIncident.objects.get(pk=public.pk)
    assert public.status == PublicStatus.INVESTIGATING  # Never resolved by itself.
    page = incident_page(staff, incident)
    assert 'id="incident-statuspage-resolved"' in page
    resolved_url = f"{reverse('admin:statuspage_publicincident_post', args=[public.pk])}?resolved=1"
    form = staff.get(resolved_url)
    initial = form.context["form"].initial
    assert initial["status"] == PublicStatus.RESOLVED and "has been resolved" in initial["message"]
    assert "db-7" not in initial["message"]
    staff.post(resolved_url, {"status": "resolved", "message": initial["message"]})
    public = PublicIncident.objects.get(pk=public.pk)
    assert public.status == PublicStatus.RESOLVED
    assert 'id="incident-statuspage-resolved"' not in incident_page(staff, incident)


def test_a_viewer_sees_the_panel_without_buttons(client, viewer, incident):
    client.force_login(viewer)
    page = incident_page(client, incident)
    assert 'id="incident-statuspage-open"' not in page
