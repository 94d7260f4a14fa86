"""The Statuspage-compatible JSON API: each document's keys and values as Statuspage documents them
(https://metastatuspage.com/api), groups, unresolved against resolved, maintenance upcoming and
active, the indicator, time stamps in the page's zone, constant queries, and who may read it from
another site."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from statuspage.choices import ComponentStatus, Impact, PublicStatus
from statuspage.models import Component
from statuspage.public_json import PAGE_ID, indicator
from statuspage.services.components import component_status_set
from statuspage.services.public_incidents import maintenance_sweep
from tests.statuspage.support_json import (
    component_make,
    get_json,
    group_make,
    incident_make,
    maintenance_make,
    operator_fixture,  # noqa: F401
    page_cache_fixture,  # noqa: F401
    page_moved_on,
    settings_set,
    update_post,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("page_cache")]

PAGE_KEYS = {"id", "name", "url", "time_zone", "updated_at"}
STATUS_KEYS = {"indicator", "description"}
COMPONENT_KEYS = {
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "position",
    "description",
    "showcase",
    "start_date",
    "group_id",
    "page_id",
    "group",
    "only_show_if_degraded",
}
GROUP_KEYS = COMPONENT_KEYS | {"components"}
INCIDENT_KEYS = {
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "monitoring_at",
    "resolved_at",
    "impact",
    "shortlink",
    "started_at",
    "page_id",
    "incident_updates",
    "components",
}
MAINTENANCE_KEYS = INCIDENT_KEYS | {"scheduled_for", "scheduled_until"}
UPDATE_KEYS = {
    "id",
    "status",
    "body",
    "incident_id",
    "created_at",
    "updated_at",
    "display_at",
    "affected_components",
    "deliver_notifications",
    "custom_tweet",
    "tweet_id",
}
AFFECTED_KEYS = {"code", "name", "old_status", "new_status"}

COMPONENT_STATUSES = {
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
}
INCIDENT_STATUSES = {"investigating", "identified", "monitoring", "resolved", "postmortem"}
MAINTENANCE_STATUSES = {"scheduled", "in_progress", "verifying", "completed"}
IMPACTS = {"none", "minor", "major", "critical", "maintenance"}
INDICATORS = {"none", "minor", "major", "critical", "maintenance"}
# Statuspage's stamps: 2026-12-06T06:19:58.123+00:00 (or Z); ours always carry the offset.
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")


def stamp_or_none(value) -> bool:
    return value is None or bool(STAMP.match(value))


def assert_page(page: dict) -> None:
    assert set(page) == PAGE_KEYS
    assert page["id"] == PAGE_ID
    assert page["url"] == f"{settings.SITE_URL}/status/"
    assert STAMP.match(page["updated_at"])


def assert_component(doc: dict) -> None:
    assert set(doc) == (GROUP_KEYS if doc["group"] else COMPONENT_KEYS)
    assert isinstance(doc["id"], str)
    assert doc["status"] in COMPONENT_STATUSES
    assert STAMP.match(doc["created_at"]) and STAMP.match(doc["updated_at"])
    assert isinstance(doc["position"], int)
    assert doc["description"] is None or isinstance(doc["description"], str)
    assert isinstance(doc["showcase"], bool) and isinstance(doc["only_show_if_degraded"], bool)
    assert doc["start_date"] is None
    assert doc["page_id"] == PAGE_ID
    assert doc["group_id"] is None or doc["group_id"].startswith("g")
    if doc["group"]:
        assert doc["group_id"] is None
        assert all(isinstance(member, str) for member in doc["components"])


def assert_incident(doc: dict, maintenance: bool = False) -> None:
    assert set(doc) == (MAINTENANCE_KEYS if maintenance else INCIDENT_KEYS)
    assert isinstance(doc["id"], str) and doc["page_id"] == PAGE_ID
    assert doc["status"] in (MAINTENANCE_STATUSES if maintenance else INCIDENT_STATUSES)
    assert doc["impact"] in IMPACTS
    for key in ("created_at", "updated_at", "started_at"):
        assert STAMP.match(doc[key]), key
    for key in ("monitoring_at", "resolved_at", "scheduled_for", "scheduled_until"):
        assert stamp_or_none(doc.get(key)), key
    assert doc["shortlink"] == f"{settings.SITE_URL}/status/incidents/{doc['id']}/"
    for update in doc["incident_updates"]:
        assert set(update) == UPDATE_KEYS
        assert isinstance(update["id"], str) and update["incident_id"] == doc["id"]
        assert update["status"] in (MAINTENANCE_STATUSES if maintenance else INCIDENT_STATUSES)
        assert isinstance(update["body"], str) and isinstance(update["deliver_notifications"], bool)
        assert update["custom_tweet"] is None and update["tweet_id"] is None
        for key in ("created_at", "updated_at", "display_at"):
            assert STAMP.match(update[key]), key
        for change in update["affected_components"] or []:
            assert set(change) == AFFECTED_KEYS
            assert {change["old_status"], change["new_status"]} <= COMPONENT_STATUSES
    for component in doc["components"]:
        assert_component(component)


@pytest.fixture
def page(operator):
    """A page with a group of two, one component of its own, a hidden one; an open incident, a
    resolved one, and a maintenance window."""
    api = group_make("API", order=1, description="The public REST API")
    rest = component_make("REST", group=api, order=1)
    hooks = component_make("Webhooks", group=api, order=2, description="Outgoing webhooks")
    web = component_make("Website", order=0)
    hidden = component_make("Billing batch", shown=False)
    slow = incident_make(
        operator,
        "Webhooks delayed",
        components={hooks: ComponentStatus.DEGRADED, hidden: ComponentStatus.PARTIAL_OUTAGE},
    )
    update_post(operator, slow, PublicStatus.IDENTIFIED, "A queue is backed up.")
    past = incident_make(operator, "Website down", components={web: ComponentStatus.MAJOR_OUTAGE})
    update_post(operator, past, PublicStatus.MONITORING, "Fixed; watching.")
    update_post(operator, past, PublicStatus.RESOLVED, "All good.")
    now = timezone.now()
    window = maintenance_make(
        operator, "Database upgrade", now + timedelta(days=1), now + timedelta(days=1, hours=2), [rest]
    )
    page_moved_on()
    return {
        "api": api,
        "rest": rest,
        "hooks": hooks,
        "web": web,
        "hidden": hidden,
        "slow": slow,
        "past": past,
        "window": window,
    }


# --- Shapes ------------------------------------------------------------------------------------------


def test_summary_has_statuspages_shape(client, page):
    data = get_json(client, "json_summary")

    assert set(data) == {"page", "components", "incidents", "scheduled_maintenances", "status"}
    assert_page(data["page"])
    assert set(data["status"]) == STATUS_KEYS and data["status"]["indicator"] in INDICATORS
    for component in data["components"]:
        assert_component(component)
    # Only the unresolved incident; the upcoming window.
    assert [doc["name"] for doc in data["incidents"]] == ["Webhooks delayed"]
    for doc in data["incidents"]:
        assert_incident(doc)
    assert [doc["name"] for doc in data["scheduled_maintenances"]] == ["Database upgrade"]
    assert_incident(data["scheduled_maintenances"][0], maintenance=True)


def test_status_is_the_page_and_the_indicator(client, page):
    data = get_json(client, "json_status")

    assert set(data) == {"page", "status"}
    assert_page(data["page"])
    # Webhooks degraded and a minor incident open.
    assert data["status"] == {"indicator": "minor", "description": "Minor Service Outage"}


def test_components_lists_groups_with_their_members_and_leaves_hidden_ones_out(client, page):
    data = get_json(client, "json_components")

    assert set(data) == {"page", "components"}
    by_name = {doc["name"]: doc for doc in data["components"]}
    assert list(by_name) == ["Website", "API", "REST", "Webhooks"]
    assert [doc["position"] for doc in data["components"]] == [1, 2, 3, 4]
    group = by_name["API"]
    assert group["group"] is True and group["id"] == f"g{page['api'].pk}"
    assert group["components"] == [str(page["rest"].pk), str(page["hooks"].pk)]
    assert group["description"] == "The public REST API"
    assert group["status"] == "degraded_performance"  # The worst of its members.
    assert by_name["REST"]["group_id"] == by_name["Webhooks"]["group_id"] == group["id"]
    assert by_name["Website"]["group_id"] is None and by_name["Website"]["group"] is False
    assert by_name["Webhooks"] | {"updated_at": None, "created_at": None} == {
        "id": str(page["hooks"].pk),
        "name": "Webhooks",
        "status": "degraded_performance",
        "created_at": None,
        "updated_at": None,
        "position": 4,
        "description": "Outgoing webhooks",
        "showcase": True,
        "start_date": None,
        "group_id": f"g{page['api'].pk}",
        "page_id": PAGE_ID,
        "group": False,
        "only_show_if_degraded": False,
    }
    assert by_name["REST"]["description"] is None
    for doc in data["components"]:
        assert_component(doc)


def test_a_group_whose_components_are_all_hidden_is_left_out(client, operator):
    hidden_group = group_make("Internal")
    component_make("Batch", group=hidden_group, shown=False)
    component_make("Website")

    data = get_json(client, "json_components")

    assert [doc["name"] for doc in data["components"]] == ["Website"]


def test_incidents_lists_resolved_and_unresolved_with_their_updates(client, page):
    data = get_json(client, "json_incidents")

    assert set(data) == {"page", "incidents"}
    assert [doc["name"] for doc in data["incidents"]] == ["Website down", "Webhooks delayed"]
    for doc in data["incidents"]:
        assert_incident(doc)
    past, slow = data["incidents"]
    assert past["status"] == "resolved" and past["resolved_at"] is not None
    assert past["monitoring_at"] is not None
    assert [u["status"] for u in past["incident_updates"]] == ["resolved", "monitoring", "investigating"]
    assert [u["body"] for u in past["incident_updates"]] == [
        "All good.",
        "Fixed; watching.",
        past["incident_updates"][2]["body"],
    ]
    first = past["incident_updates"][-1]
    assert first["affected_components"] == [
        {
            "code": str(page["web"].pk),
            "name": "Website",
            "old_status": "operational",
            "new_status": "major_outage",
        }
    ]
    assert past["incident_updates"][0]["affected_components"] == [
        {
            "code": str(page["web"].pk),
            "name": "Website",
            "old_status": "major_outage",
            "new_status": "operational",
        }
    ]
    assert first["display_at"] == first["created_at"] and first["deliver_notifications"] is True
    assert slow["status"] == "identified" and slow["resolved_at"] is None and slow["monitoring_at"] is None
    assert slow["impact"] == "minor"


def test_hidden_components_stay_out_of_incidents_and_their_updates(client, page):
    data = get_json(client, "json_incidents")

    slow = next(doc for doc in data["incidents"] if doc["name"] == "Webhooks delayed")
    assert [doc["name"] for doc in slow["components"]] == ["Webhooks"]
    for update in slow["incident_updates"]:
        assert [change["name"] for change in update["affected_components"] or []] in (["Webhooks"], [])
    assert "Billing batch" not in str(data)


def test_unresolved_lists_only_open_incidents(client, page, operator):
    data = get_json(client, "json_incidents_unresolved")
    assert set(data) == {"page", "incidents"}
    assert [doc["name"] for doc in data["incidents"]] == ["Webhooks delayed"]

    update_post(operator, page["slow"], PublicStatus.RESOLVED, "Queue drained.")
    page_moved_on()
    assert get_json(client, "json_incidents_unresolved")["incidents"] == []


def test_incidents_holds_the_50_most_recent(client, operator):
    for n in range(51):
        incident_make(operator, f"Incident {n}")
    page_moved_on()

    names = [doc["name"] for doc in get_json(client, "json_incidents")["incidents"]]

    assert len(names) == 50
    assert names[0] == "Incident 50" and "Incident 0" not in names


def test_maintenance_upcoming_active_and_all(client, page, operator):
    now = timezone.now()
    running = maintenance_make(
        operator, "Network work", now - timedelta(minutes=5), now + timedelta(hours=1), [page["web"]]
    )
    maintenance_sweep(now=now)
    done = maintenance_make(
        operator, "Old work", now - timedelta(days=3), now - timedelta(days=3) + timedelta(hours=1)
    )
    maintenance_sweep(now=now)
    page_moved_on()

    every = get_json(client, "json_maintenances")
    upcoming = get_json(client, "json_maintenances_upcoming")
    active = get_json(client, "json_maintenances_active")

    for data in (every, upcoming, active):
        assert set(data) == {"page", "scheduled_maintenances"}
        for doc in data["scheduled_maintenances"]:
            assert_incident(doc, maintenance=True)
    assert [doc["name"] for doc in every["scheduled_maintenances"]] == [
        "Database upgrade",
        "Network work",
        "Old work",
    ]
    assert [doc["name"] for doc in upcoming["scheduled_maintenances"]] == ["Database upgrade"]
    assert [doc["name"] for doc in active["scheduled_maintenances"]] == ["Network work"]
    network = active["scheduled_maintenances"][0]
    assert network["status"] == "in_progress" and network["impact"] == "maintenance"
    assert network["id"] == str(running.pk)
    assert [doc["status"] for doc in network["components"]] == ["under_maintenance"]
    assert [u["status"] for u in network["incident_updates"]] == ["in_progress", "scheduled"]
    old = every["scheduled_maintenances"][2]
    assert old["id"] == str(done.pk) and old["status"] == "completed" and old["resolved_at"] is not None
    # The summary shows what is coming and what is running, not what is over; and says so up top.
    summary = get_json(client, "json_summary")
    assert [doc["name"] for doc in summary["scheduled_maintenances"]] == ["Database upgrade", "Network work"]
    assert summary["status"]["indicator"] == "minor"  # The open incident outweighs maintenance.


def test_times_carry_the_page_time_zone_offset(client, page):
    settings_set(time_zone="Asia/Kolkata")

    data = get_json(client, "json_summary")

    assert data["page"]["time_zone"] == "Asia/Kolkata"
    assert data["page"]["updated_at"].endswith("+05:30")
    assert data["components"][0]["created_at"].endswith("+05:30")
    assert data["incidents"][0]["incident_updates"][0]["created_at"].endswith("+05:30")


# --- The indicator -------------------------------------------------------------------------------------


def components(*statuses) -> list[Component]:
    return [Component(name=f"c{n}", status=status) for n, status in enumerate(statuses)]


@pytest.mark.parametrize(
    ("statuses", "impacts", "expected"),
    [
        ((), (), ("none", "All Systems Operational")),
        (("operational", "operational"), (), ("none", "All Systems Operational")),
        (("operational", "degraded_performance"), (), ("minor", "Minor Service Outage")),
        (("operational", "partial_outage"), (), ("minor", "Partial System Outage")),
        (("operational", "major_outage"), (), ("major", "Partial System Outage")),
        (("major_outage", "major_outage"), (), ("critical", "Major System Outage")),
        (("major_outage",), (), ("critical", "Major System Outage")),
        (("operational", "under_maintenance"), (), ("maintenance", "Service Under Maintenance")),
        (("operational",), (("maintenance", "maintenance"),), ("maintenance", "Service Under Maintenance")),
        (("operational",), (("incident", "minor"),), ("minor", "Minor Service Outage")),
        (("operational",), (("incident", "major"),), ("major", "Major Service Outage")),
        (("operational",), (("incident", "critical"),), ("critical", "Major System Outage")),
        (("operational",), (("incident", "none"),), ("none", "All Systems Operational")),
        (("partial_outage",), (("incident", "minor"),), ("minor", "Partial System Outage")),
        (("degraded_performance",), (("incident", "major"),), ("major", "Major Service Outage")),
        (("under_maintenance",), (("incident", "minor"),), ("minor", "Minor Service Outage")),
    ],
)
def test_indicator(statuses, impacts, expected):
    assert indicator(components(*statuses), impacts) == {"indicator": expected[0], "description": expected[1]}


def test_the_indicator_follows_the_components_as_they_change(client, operator):
    web = component_make("Website")
    component_make("API")
    component_status_set(component=web, status=ComponentStatus.MAJOR_OUTAGE, by=operator)
    page_moved_on()
    assert get_json(client, "json_status")["status"] == {
        "indicator": "major",
        "description": "Partial System Outage",
    }

    component_status_set(component=web, status=ComponentStatus.OPERATIONAL, by=operator)
    incident_make(operator, "Logins fail", impact=Impact.CRITICAL)
    page_moved_on()
    assert get_json(client, "json_status")["status"] == {
        "indicator": "critical",
        "description": "Major System Outage",
    }
    assert get_json(client, "json_summary")["status"] == get_json(client, "json_status")["status"]


# --- Queries, caching, access ------------------------------------------------------------------------


DOCUMENTS = [
    "json_summary",
    "json_status",
    "json_components",
    "json_incidents",
    "json_incidents_unresolved",
    "json_maintenances",
    "json_maintenances_upcoming",
    "json_maintenances_active",
]
# Branding (its cache is empty after a change), the page's last change, the components, and three
# per list of incidents (incidents, their updates, their components).
QUERIES = {
    "json_summary": 9,
    "json_status": 4,
    "json_components": 3,
    "json_incidents": 6,
    "json_incidents_unresolved": 6,
    "json_maintenances": 6,
    "json_maintenances_upcoming": 6,
    "json_maintenances_active": 6,
}


def grow(operator, n: int) -> None:
    """n of everything: components (half in a group), open incidents, upcoming and running windows."""
    group = group_make(f"Group {n}")
    now = timezone.now()
    for i in range(n):
        component = component_make(f"Component {n}-{i}", group=group if i % 2 else None)
        public = incident_make(
            operator, f"Incident {n}-{i}", components={component: ComponentStatus.DEGRADED}
        )
        update_post(operator, public, PublicStatus.MONITORING)
        later = now + timedelta(days=i + 1)
        maintenance_make(operator, f"Window {n}-{i}", later, later + timedelta(hours=1), [component])
        maintenance_make(operator, f"Running {n}-{i}", now - timedelta(minutes=1), now + timedelta(hours=1))
    maintenance_sweep(now=now)
    page_moved_on()


@pytest.mark.parametrize("name", DOCUMENTS)
def test_each_document_costs_the_same_queries_whatever_its_size(
    client, operator, django_assert_num_queries, name
):
    grow(operator, 1)
    with django_assert_num_queries(QUERIES[name]):
        small = get_json(client, name)
    grow(operator, 6)
    with django_assert_num_queries(QUERIES[name]):
        large = get_json(client, name)
    assert large != small
    # Served from the cache until the page changes.
    with django_assert_num_queries(0):
        assert get_json(client, name) == large


@pytest.mark.parametrize("name", DOCUMENTS)
def test_a_public_page_is_readable_by_widgets_on_other_sites(client, page, name):
    first = client.get(reverse(f"statuspage:{name}"))
    cached = client.get(reverse(f"statuspage:{name}"))

    for response in (first, cached):
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert response["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("name", DOCUMENTS)
def test_a_private_page_asks_for_a_login_and_never_allows_other_origins(client, page, admin_user, name):
    settings_set(private=True)
    url = reverse(f"statuspage:{name}")

    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    assert "Access-Control-Allow-Origin" not in anonymous

    client.force_login(admin_user)
    for _ in range(2):  # Built, then from the cache.
        staff = client.get(url)
        assert staff.status_code == 200
        assert "Access-Control-Allow-Origin" not in staff
        assert "private" in staff["Cache-Control"]


def test_only_get_and_head(client, page):
    url = reverse("statuspage:json_summary")
    assert client.post(url).status_code == 405
    assert client.head(url).status_code == 200
