"""The incident changelist (badges, search, filters, constant queries, capped counts) and the
catalog admin."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents.models import Incident
from tests.admin_support import change_url, changelist, form_data

CHANGELIST = changelist(Incident)
ADD = reverse("admin:incidents_incident_add")


# --- Changelist ------------------------------------------------------------------------------------


def test_changelist_renders_badges_and_columns(client, admin_user, open_incident, priorities):
    open_incident(title="Checkout returns 502", priority=priorities["P1"])
    open_incident(title="Slow search", priority=priorities["P5"])
    client.force_login(admin_user)

    response = client.get(CHANGELIST)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Checkout returns 502" in html
    assert "mitigate-badge priority-p1" in html
    assert "mitigate-badge priority-p5" in html
    assert "status-new" in html
    assert "incidents/admin.css" in html


def test_changelist_search_and_filter(client, admin_user, open_incident, priorities):
    one = open_incident(title="Database failover", priority=priorities["P1"])
    open_incident(title="Login slow", priority=priorities["P3"])
    client.force_login(admin_user)

    found = client.get(CHANGELIST, {"q": one.reference})
    assert list(found.context["cl"].result_list) == [one]
    filtered = client.get(CHANGELIST, {"priority__id__exact": priorities["P1"].pk})
    assert [i.title for i in filtered.context["cl"].result_list] == ["Database failover"]


def test_changelist_query_count_is_constant(
    client, admin_user, incident_factory, service_factory, user_factory, django_assert_num_queries
):
    services = [service_factory(), service_factory()]
    people = [user_factory(), user_factory()]

    def make(n):
        for i in range(n):
            incident_factory(services=services, assignee=people[i % 2], commander=people[(i + 1) % 2])

    client.force_login(admin_user)
    client.get(CHANGELIST)  # Warm up the session and content-type caches.
    make(1)
    # Session, user, filter choices (priority, services, assignee), page count, page, services
    # prefetch. (No date hierarchy: its distinct dates cost a scan of every incident.)
    with django_assert_num_queries(8):
        response = client.get(CHANGELIST)
    assert len(response.context["cl"].result_list) == 1

    make(49)
    with django_assert_num_queries(8):
        response = client.get(CHANGELIST)
    assert len(response.context["cl"].result_list) == 50


def test_viewer_sees_changelist_and_a_read_only_page(client, viewer, open_incident):
    incident = open_incident()
    client.force_login(viewer)

    assert client.get(CHANGELIST).status_code == 200
    response = client.get(change_url(incident))

    assert response.status_code == 200
    html = response.content.decode()
    assert "View incident" in html
    assert 'name="_save"' not in html
    assert "data-transition" not in html
    assert 'name="note"' not in html
    assert client.get(ADD).status_code == 403


def test_viewer_cannot_change(client, viewer, open_incident):
    incident = open_incident(title="Original")
    client.force_login(viewer)

    response = client.post(change_url(incident), {"title": "Changed"})

    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.title == "Original"


def test_nobody_deletes_incidents(client, admin_user, open_incident):
    incident = open_incident()
    client.force_login(admin_user)

    response = client.get(reverse("admin:incidents_incident_delete", args=[incident.pk]))

    assert response.status_code == 403


# --- Catalog --------------------------------------------------------------------------------------


def test_service_admin_pages_render(client, admin_user, service_factory):
    service = service_factory(name="Checkout", slug="checkout", runbook_url="https://runbooks/checkout")
    client.force_login(admin_user)

    changelist = client.get(reverse("admin:incidents_service_changelist"), {"type__exact": "web"})
    assert changelist.status_code == 200
    assert "Checkout" in changelist.content.decode()
    assert client.get(reverse("admin:incidents_service_change", args=[service.pk])).status_code == 200
    add = client.get(reverse("admin:incidents_service_add"))
    assert add.status_code == 200
    assert "prepopulated" in add.content.decode()


def test_priority_admin_edits_targets_but_adds_and_deletes_nothing(client, admin_user, priorities):
    client.force_login(admin_user)
    p1 = priorities["P1"]

    changelist = client.get(reverse("admin:incidents_priority_changelist"))
    assert changelist.status_code == 200
    assert "priority-p1" in changelist.content.decode()
    assert client.get(reverse("admin:incidents_priority_add")).status_code == 403
    assert client.get(reverse("admin:incidents_priority_delete", args=[p1.pk])).status_code == 403

    page = client.get(reverse("admin:incidents_priority_change", args=[p1.pk]))
    assert page.status_code == 200
    response = client.post(
        reverse("admin:incidents_priority_change", args=[p1.pk]),
        form_data(page, response_target="00:10:00"),
    )
    assert response.status_code == 302
    p1.refresh_from_db()
    assert p1.response_target == timedelta(minutes=10)
    assert p1.code == "P1"


def test_viewer_sees_catalog_read_only(client, viewer, service_factory):
    service = service_factory()
    client.force_login(viewer)

    assert client.get(reverse("admin:incidents_service_changelist")).status_code == 200
    page = client.get(reverse("admin:incidents_service_change", args=[service.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.get(reverse("admin:incidents_priority_changelist")).status_code == 200


@pytest.mark.parametrize("name", ["incidents_service", "incidents_priority", "incidents_incident"])
def test_responder_can_open_every_changelist(client, responder, name):
    client.force_login(responder)
    assert client.get(reverse(f"admin:{name}_changelist")).status_code == 200


def test_detected_within_filter(client, admin_user, incident_factory):
    from datetime import timedelta

    now = timezone.now()
    incident_factory(title="Fresh", detected_at=now - timedelta(hours=2))
    incident_factory(title="Last week", detected_at=now - timedelta(days=5))
    incident_factory(title="Old", detected_at=now - timedelta(days=60))
    client.force_login(admin_user)

    def titles(window):
        response = client.get(CHANGELIST, {"detected": window})
        return sorted(i.title for i in response.context["cl"].result_list)

    assert titles("24h") == ["Fresh"]
    assert titles("7d") == ["Fresh", "Last week"]
    assert titles("90d") == ["Fresh", "Last week", "Old"]


def test_changelist_counts_up_to_a_cap(client, admin_user, incident_factory, monkeypatch):
    from incidents.admin.paginator import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    for _ in range(5):
        incident_factory()
    client.force_login(admin_user)

    response = client.get(CHANGELIST)

    assert response.context["cl"].result_count == 4  # Counted no further than the cap + 1.
    assert len(response.context["cl"].result_list) == 5  # The page itself is whole.
    assert "more than 3 incidents" in response.content.decode()

    few = client.get(CHANGELIST, {"q": response.context["cl"].result_list[0].reference})
    assert "1 incident" in few.content.decode() and "more than" not in few.content.decode()
