"""ActionAdmin deletes through action_delete: the delete page and "Delete selected" alike. Django's
own check shows an action in use as protected; a run added after that check is refused by the
service, shown as a message, and nothing is deleted."""

from unittest import mock

import pytest
from django.contrib.admin import ModelAdmin
from django.contrib.messages import get_messages
from django.urls import reverse

from actions.models import Action
from actions.services import action_delete

CHANGELIST = reverse("admin:actions_action_changelist")


def flashed(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def delete_url(action: Action) -> str:
    return reverse("admin:actions_action_delete", args=[action.pk])


@pytest.fixture
def boss(client, catalog_admin):
    client.force_login(catalog_admin)
    return catalog_admin


@pytest.fixture
def spy():
    with mock.patch("actions.admin.catalog.action_delete", wraps=action_delete) as called:
        yield called


@pytest.fixture
def unchecked():
    """Django's check before deleting finds no run in the way: as if the run came after it."""

    def check(self, objs, request):
        deleted, counts, _perms_needed, _protected = original(self, objs, request)
        return deleted, counts, set(), []

    original = ModelAdmin.get_deleted_objects
    with mock.patch.object(ModelAdmin, "get_deleted_objects", check):
        yield


def test_the_delete_page_deletes_through_action_delete(client, boss, runnable_action, spy):
    action = runnable_action(name="Restart nginx")

    response = client.post(delete_url(action), {"post": "yes"})

    assert response.status_code == 302
    assert spy.call_args.kwargs["by"].user == boss
    assert not Action.objects.filter(name="Restart nginx").exists()


def test_django_refuses_an_action_with_runs_before_the_service(
    client, boss, runnable_action, action_run_factory, spy
):
    action = runnable_action(name="Restart nginx")
    action_run_factory(action=action)

    response = client.post(delete_url(action), {"post": "yes"})

    # Runs are never deleted (no one holds that permission): Django's page says so.
    assert response.status_code == 200
    assert "Cannot delete action" in response.content.decode()
    assert not spy.called
    assert Action.objects.filter(pk=action.pk).exists()


def test_a_run_after_the_check_is_refused_with_a_message(
    client, boss, runnable_action, action_run_factory, unchecked
):
    action = runnable_action(name="Restart nginx")
    action_run_factory(action=action)

    response = client.post(delete_url(action), {"post": "yes"})

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:actions_action_change", args=[action.pk])
    assert flashed(response) == ["Restart nginx is still used by 1 action run: disable it instead."]
    assert Action.objects.filter(pk=action.pk).exists()


def test_delete_selected_deletes_through_action_delete(client, boss, runnable_action, spy):
    one, two, kept = runnable_action(), runnable_action(), runnable_action()

    choices = client.get(CHANGELIST).context["action_form"].fields["action"].choices
    assert ("delete_selected", "Delete selected actions") in choices
    response = client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [one.pk, two.pk], "post": "yes"}
    )

    assert response.status_code == 302
    assert spy.call_count == 2
    assert list(Action.objects.all()) == [kept]
    assert "Successfully deleted 2 actions." in flashed(response)


def test_a_refused_delete_selected_deletes_nothing_and_logs_nothing(
    client, boss, runnable_action, action_run_factory, unchecked
):
    unused, used = runnable_action(name="A unused"), runnable_action(name="B used")
    action_run_factory(action=used)

    response = client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [unused.pk, used.pk], "post": "yes"}
    )

    assert response.status_code == 302
    assert flashed(response) == ["B used is still used by 1 action run: disable it instead."]
    assert Action.objects.filter(pk__in=[unused.pk, used.pk]).count() == 2
    assert not boss.logentry_set.exists()


def test_a_responder_cannot_delete_actions(client, responder, runnable_action):
    action = runnable_action()
    client.force_login(responder)

    assert client.post(delete_url(action), {"post": "yes"}).status_code == 403
    assert Action.objects.filter(pk=action.pk).exists()
