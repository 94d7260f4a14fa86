"""The status page admin (issue 14): components saved and their status set through the services,
order edited in the list, public incidents opened, updated (oldest first on the page) and edited,
maintenance scheduled, page settings with a sniffed logo and the preview link; refusals shown on
the form with nothing written; changelists in a constant number of queries."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from statuspage.choices import ComponentStatus, Kind, PublicStatus
from statuspage.models import Component, ComponentStatusChange, PageSettings, PublicIncident
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


def test_component_add_with_services_and_status(staff):
    service = ServiceFactory()
    response = staff.post(
        reverse("admin:statuspage_component_add"),
        {
            "name": "Storefront",
            "description": "",
            "order": "3",
            "shown": "on",
            "status": "degraded_performance",
            "services": [service.pk],
        },
    )
    assert response.status_code == 302, response.content[:2000]
    component = Component.objects.get()
    assert component.status == ComponentStatus.DEGRADED and list(component.services.all()) == [service]
    assert ComponentStatusChange.objects.filter(component=component).count() == 1


def test_component_duplicate_name_is_a_form_error(staff):
    Component.objects.create(name="API")
    response = staff.post(
        reverse("admin:statuspage_component_add"), {"name": "API", "order": "0", "status": "operational"}
    )
    assert response.status_code == 200 and "already exists" in response.content.decode()
    assert Component.objects.count() == 1


def test_order_is_edited_in_the_list(staff):
    first, second = Component.objects.create(name="A", order=1), Component.objects.create(name="B", order=2)
    data = {
        "form-TOTAL_FORMS": "2",
        "form-INITIAL_FORMS": "2",
        "form-0-id": str(first.pk),
        "form-0-order": "20",
        "form-0-shown": "on",
        "form-1-id": str(second.pk),
        "form-1-order": "10",
        "form-1-shown": "on",
        "_save": "Save",
    }
    response = staff.post(reverse("admin:statuspage_component_changelist"), data)
    assert response.status_code == 302
    assert list(Component.objects.order_by("order").values_list("name", flat=True)) == ["B", "A"]


def test_changelists_run_a_constant_number_of_queries(staff, django_assert_max_num_queries):
    for i in range(8):
        component = Component.objects.create(name=f"C{i}")
        component.services.add(ServiceFactory())
    with django_assert_max_num_queries(14):
        assert staff.get(reverse("admin:statuspage_component_changelist")).status_code == 200
    with django_assert_max_num_queries(12):
        assert staff.get(reverse("admin:statuspage_publicincident_changelist")).status_code == 200


def test_open_update_and_edit_a_public_incident(staff):
    component = Component.objects.create(name="Storefront")
    opened = staff.post(
        reverse("admin:statuspage_publicincident_open"),
        {
            "title": "Checkout errors",
            "impact": "major",
            "status": "investigating",
            "message": "Looking.",
            f"component_{component.pk}": "major_outage",
        },
    )
    assert opened.status_code == 302
    public = PublicIncident.objects.get()
    component.refresh_from_db()
    assert component.status == ComponentStatus.MAJOR_OUTAGE
    post_url = reverse("admin:statuspage_publicincident_post", args=[public.pk])
    page = staff.get(post_url).content.decode()
    assert 'value="completed"' not in page  # Only the incident's statuses.
    posted = staff.post(
        post_url, {"status": "resolved", "message": "Fixed.", f"component_{component.pk}": "major_outage"}
    )
    assert posted.status_code == 302
    public = PublicIncident.objects.get(pk=public.pk)
    assert public.status == PublicStatus.RESOLVED and public.updates.count() == 2
    change = staff.get(reverse("admin:statuspage_publicincident_change", args=[public.pk])).content.decode()
    assert change.index("Looking.") < change.index("Fixed.")  # Oldest first.
    staff.post(
        reverse("admin:statuspage_publicincident_change", args=[public.pk]),
        {"title": "Card errors", "impact": "minor"},
    )
    public = PublicIncident.objects.get(pk=public.pk)
    assert (public.title, public.impact) == ("Card errors", "minor")


def test_a_refused_post_is_a_form_error_and_writes_nothing(staff):
    response = staff.post(
        reverse("admin:statuspage_publicincident_open"),
        {"title": " ", "impact": "minor", "status": "investigating", "message": "m"},
    )
    assert response.status_code == 200 and not PublicIncident.objects.exists()


def test_schedule_maintenance(staff):
    start = timezone.localtime() + timedelta(days=2)
    end = start + timedelta(hours=1)
    data = {
        "title": "Database upgrade",
        "message": "Upgrading.",
        "scheduled_for_0": start.strftime("%Y-%m-%d"),
        "scheduled_for_1": start.strftime("%H:%M:%S"),
        "scheduled_until_0": end.strftime("%Y-%m-%d"),
        "scheduled_until_1": end.strftime("%H:%M:%S"),
    }
    backwards = staff.post(
        reverse("admin:statuspage_publicincident_schedule"),
        {**data, "scheduled_until_0": data["scheduled_for_0"], "scheduled_until_1": data["scheduled_for_1"]},
    )
    assert backwards.status_code == 200 and not PublicIncident.objects.exists()
    assert staff.post(reverse("admin:statuspage_publicincident_schedule"), data).status_code == 302
    assert PublicIncident.objects.get().kind == Kind.MAINTENANCE
    assert (
        staff.get(reverse("admin:statuspage_publicincident_changelist") + "?kind=maintenance").status_code
        == 200
    )


def settings_data(**changes) -> dict:
    return {
        "name": "Acme",
        "accent_colour": "#112233",
        "support_url": "",
        "time_zone": "UTC",
        "history_days": "90",
        **changes,
    }


def test_page_settings_logo_is_sniffed_not_named(staff):
    url = reverse("admin:statuspage_pagesettings_change", args=[1])
    assert staff.get(reverse("admin:statuspage_pagesettings_changelist")).url == url
    page = staff.get(url).content.decode()
    assert 'id="statuspage-preview"' in page and reverse("statuspage:index") in page
    fake = SimpleUploadedFile("logo.png", b"<html><script>alert(1)</script>", content_type="image/png")
    refused = staff.post(url, settings_data(logo_file=fake))
    assert refused.status_code == 200 and PageSettings.objects.get().name == "Status"
    script_svg = SimpleUploadedFile(
        "logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>'
    )
    assert staff.post(url, settings_data(logo_file=script_svg)).status_code == 200
    big = SimpleUploadedFile("logo.gif", PNG + b"\x00" * 300 * 1024)
    assert staff.post(url, settings_data(logo_file=big)).status_code == 200
    real = SimpleUploadedFile("logo.bin", PNG)
    assert staff.post(url, settings_data(logo_file=real)).status_code == 302
    row = PageSettings.objects.get()
    assert row.name == "Acme" and row.logo_content_type == "image/png" and bytes(row.logo) == PNG
    bad_colour = staff.post(url, settings_data(accent_colour="red"))
    assert bad_colour.status_code == 200 and PageSettings.objects.get().accent_colour == "#112233"
