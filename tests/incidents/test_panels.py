"""The incident page's registry (incidents.admin.panels): the apps above incidents add their inlines
and buttons, in a fixed order, without incidents importing them."""

import pytest
from django.contrib import admin
from django.urls import reverse

from actions.admin.incident import IncidentActionRunInline
from actions.admin.snapshot import IncidentSnapshotInline
from alerts.admin.incident import IncidentAlertInline
from alerts.admin.runbooks import IncidentRunbooksWithRulesInline
from analytics.admin.cost import IncidentCostInline
from incidents.admin import panels
from incidents.admin.inlines import StatusUpdateHistoryInline
from incidents.services import incident_acknowledge, incident_close, incident_resolve
from notifications.admin.incident import IncidentDeliveryInline
from oncall.admin.incident import IncidentPageInline
from postmortems.admin.incident import IncidentPostmortemInline
from statuspage.admin.incident import IncidentStatusPageInline


class FirstInline(admin.TabularInline):
    pass


class SecondInline(admin.TabularInline):
    pass


class OwnInline(admin.TabularInline):
    pass


@pytest.fixture
def empty_registry(monkeypatch):
    monkeypatch.setattr(panels, "_inlines", {})
    monkeypatch.setattr(panels, "_buttons", {})


def test_inlines_sit_by_order_among_the_page_own(empty_registry):
    panels.inline_register("second", SecondInline, order=300)
    panels.inline_register("first", FirstInline, order=50)

    assert panels.inlines_with({100: OwnInline}) == [FirstInline, OwnInline, SecondInline]


def test_registering_a_name_again_replaces_it(empty_registry):
    panels.inline_register("panel", FirstInline, order=200)
    panels.inline_register("panel", SecondInline, order=200)
    panels.button_register("tool", label="Old", url=lambda request, incident: "/old/")
    panels.button_register("tool", label="New", url=lambda request, incident: "/new/")

    assert panels.inlines_with({}) == [SecondInline]
    assert panels.buttons_for(None, None) == [panels.Button(name="tool", label="New", url="/new/")]


def test_a_button_without_a_url_is_hidden(empty_registry):
    panels.button_register("hidden", label="Hidden", url=lambda request, incident: None)
    panels.button_register("shown", label="Shown", url=lambda request, incident: "/shown/")

    assert [button.name for button in panels.buttons_for(None, None)] == ["shown"]


def test_the_apps_above_fill_the_page_in_today_order(client, admin_user, open_incident):
    incident = open_incident()
    client.force_login(admin_user)

    response = client.get(reverse("admin:incidents_incident_change", args=[incident.pk]))

    assert [type(inline.opts) for inline in response.context["inline_admin_formsets"]] == [
        StatusUpdateHistoryInline,
        IncidentAlertInline,
        IncidentActionRunInline,
        IncidentSnapshotInline,
        IncidentRunbooksWithRulesInline,
        IncidentPageInline,
        IncidentDeliveryInline,
        IncidentStatusPageInline,
        IncidentPostmortemInline,
        IncidentCostInline,
    ]
    button = f'<a class="button incident-run-action" href="{reverse("admin:actions_action_run")}?incident='
    assert button + f'{incident.pk}" id="incident-run-action">Run action</a>' in response.content.decode()


def test_a_closed_incident_page_has_no_status_form_and_no_run_button(
    client, admin_user, actor, open_incident, priorities
):
    incident = open_incident(priority=priorities["P3"])
    incident = incident_acknowledge(incident=incident, by=actor)
    incident = incident_resolve(incident=incident, by=actor, summary="Restarted the pool.")
    incident_close(incident=incident, by=actor)
    client.force_login(admin_user)

    response = client.get(reverse("admin:incidents_incident_change", args=[incident.pk]))

    assert "quick_update_form" not in response.context
    assert "incident-run-action" not in response.content.decode()
