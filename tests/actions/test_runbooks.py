"""Runbooks: every save kept as a version with its author; the API (CRUD, versions, 400s, query
counts); the admin (steps inline, versions with their changes)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from actions.models import Runbook, RunbookVersion
from actions.services.runbooks import runbook_create, runbook_update
from common.actor import Actor, Source
from tests.admin_support import change_url, form_data
from tests.incidents.api_support import client_for

URL = "/api/v1/runbooks/"


@pytest.fixture
def author(catalog_admin) -> Actor:
    return Actor(user=catalog_admin, source=Source.ADMIN)


@pytest.fixture
def restart(runnable_action):
    return runnable_action(name="Restart pool", parameters=[{"name": "host", "pattern": "^[A-Za-z0-9.:-]+$"}])


@pytest.fixture
def db(service_factory):
    return service_factory(name="Database", slug="database")


# --- Versions --------------------------------------------------------------------------------------


def test_every_save_is_a_version_with_its_author_and_the_old_text_kept(author, db, restart, user_factory):
    runbook = runbook_create(
        by=author,
        title="Database pool exhausted",
        service=db,
        summary="Connections stuck.",
        steps=[{"text": "Check `pg_stat_activity`."}, {"text": "Restart the pool", "action": restart}],
    )
    assert runbook.version == 1
    editor = user_factory(username="editor", groups=["Admin"])

    runbook_update(
        by=Actor(user=editor, source=Source.API),
        runbook=runbook,
        title="Database pool exhausted",
        service=db,
        summary="Connections stuck; see the dashboard.",
        steps=[
            {
                "text": "Restart the pool",
                "action": restart,
                "parameters": {"host": "{{ alert.labels.instance }}"},
            }
        ],
    )

    runbook.refresh_from_db()
    assert runbook.version == 2 and runbook.updated_by == editor
    assert [(s.position, s.text) for s in runbook.steps.all()] == [(1, "Restart the pool")]
    first, second = RunbookVersion.objects.filter(runbook=runbook).order_by("number")
    assert (first.number, first.author_name, second.number, second.author_name) == (
        1,
        "catalog-admin",
        2,
        "editor",
    )
    assert first.summary == "Connections stuck."
    assert [s["text"] for s in first.steps] == ["Check `pg_stat_activity`.", "Restart the pool"]
    assert first.steps[1]["action_name"] == "Restart pool" and first.created_at <= second.created_at
    assert second.steps[0]["parameters"] == {"host": "{{ alert.labels.instance }}"}


def test_bad_steps_are_refused_and_nothing_is_written(author, restart):
    with pytest.raises(ValidationError) as error:
        runbook_create(
            by=author,
            title=" ",
            steps=[
                {"text": ""},
                {
                    "text": "Restart",
                    "action": restart,
                    "parameters": {"nope": "x", "host": "{{ secrets.key }}"},
                },
                {"text": "No action", "parameters": {"host": "x"}},
            ],
        )
    errors = error.value.message_dict
    assert set(errors) == {"title", "steps.1.text", "steps.2.parameters", "steps.3.parameters"}
    assert any("declares no parameter 'nope'" in m for m in errors["steps.2.parameters"])
    assert any("must start with alert. or incident." in m for m in errors["steps.2.parameters"])
    assert not Runbook.objects.exists() and not RunbookVersion.objects.exists()


def test_a_viewer_may_not_write_runbooks(viewer):
    with pytest.raises(Exception, match="may not write runbooks"):
        runbook_create(by=Actor(user=viewer, source=Source.API), title="x")


# --- API -------------------------------------------------------------------------------------------


def test_api_crud_with_steps_and_versions(catalog_admin, db, restart, viewer, django_assert_num_queries):
    api = client_for(catalog_admin)

    created = api.post(
        URL,
        {
            "title": "Pool exhausted",
            "service": "database",
            "summary": "**Look first.**",
            "steps": [
                {"text": "Check the pool."},
                {
                    "text": "Restart it",
                    "action": "Restart pool",
                    "parameters": {"host": "{{ alert.labels.instance }}"},
                },
            ],
        },
        format="json",
    )
    assert created.status_code == 201, created.data
    assert created.data["service"] == "database" and created.data["version"] == 1
    assert [s["action"] for s in created.data["steps"]] == [None, "Restart pool"]
    detail = f"{URL}{created.data['id']}/"

    patched = api.patch(detail, {"summary": "Edited."}, format="json")
    assert patched.status_code == 200 and patched.data["version"] == 2
    assert len(patched.data["steps"]) == 2  # Steps not sent: kept.
    replaced = api.patch(detail, {"steps": [{"text": "Only step"}]}, format="json")
    assert [s["text"] for s in replaced.data["steps"]] == ["Only step"]

    with django_assert_num_queries(4):  # The runbook, count, page, authors joined.
        versions = api.get(f"{detail}versions/")
    assert versions.status_code == 200
    assert [v["number"] for v in versions.data["results"]] == [3, 2, 1]
    assert versions.data["results"][2]["summary"] == "**Look first.**"
    assert versions.data["results"][0]["author"] == "catalog-admin"

    for n in range(3):
        runbook_create(
            by=Actor.system(), title=f"Other {n}", steps=[{"text": "a"}, {"text": "b", "action": restart}]
        )
    with django_assert_num_queries(3):  # Count, page, steps with their actions.
        listed = api.get(URL)
    assert listed.data["count"] == 4

    assert client_for(viewer).get(URL).status_code == 200
    assert client_for(viewer).post(URL, {"title": "x"}, format="json").status_code == 403
    assert api.delete(detail).status_code == 204
    assert not RunbookVersion.objects.filter(runbook_id=created.data["id"]).exists()


def test_api_bad_input_is_400_with_field_errors(catalog_admin, restart):
    api = client_for(catalog_admin)

    missing = api.post(URL, {"steps": [{"text": "x"}]}, format="json")
    assert missing.status_code == 400 and "title" in missing.data

    bad_step = api.post(URL, {"title": "T", "steps": [{"text": "ok"}, {"text": ""}]}, format="json")
    assert bad_step.status_code == 400 and "steps.2.text" in bad_step.data

    bad_mapping = api.post(
        URL,
        {
            "title": "T",
            "steps": [{"text": "x", "action": restart.pk, "parameters": {"host": "{{ env.HOME }}"}}],
        },
        format="json",
    )
    assert bad_mapping.status_code == 400 and "steps.1.parameters" in bad_mapping.data

    unknown = api.post(URL, {"title": "T", "owner": "me"}, format="json")
    assert unknown.status_code == 400 and "owner" in unknown.data
    no_action = api.post(URL, {"title": "T", "steps": [{"text": "x", "action": "Nope"}]}, format="json")
    assert no_action.status_code == 400 and "steps.1.action" in no_action.data
    assert not Runbook.objects.exists()


# --- Admin -----------------------------------------------------------------------------------------


def steps_data(page, *steps) -> dict:
    data = form_data(page)
    data.update({"steps-TOTAL_FORMS": str(len(steps)), "steps-INITIAL_FORMS": "0"})
    for i, step in enumerate(steps):
        for key, value in step.items():
            data[f"steps-{i}-{key}"] = value
    return data


def test_admin_saves_through_the_service_and_shows_the_versions(client, catalog_admin, db, restart):
    client.force_login(catalog_admin)
    add = reverse("admin:actions_runbook_add")
    page = client.get(add)
    data = steps_data(page, {"order": "10", "text": "Check the pool", "parameters": "{}"})
    data.update(title="Pool exhausted", service=db.pk, summary="First text")

    response = client.post(add, data)

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    runbook = Runbook.objects.get()
    assert runbook.version == 1 and runbook.updated_by == catalog_admin

    page = client.get(change_url(runbook))
    data = form_data(page, summary="Second text")
    response = client.post(change_url(runbook), data)
    assert response.status_code == 302

    html = client.get(change_url(runbook)).content.decode()
    assert 'data-number="2"' in html and 'data-number="1"' in html
    assert "-First text" in html and "+Second text" in html  # The diff of v2 against v1.


def test_admin_shows_the_services_refusal_on_the_step(client, catalog_admin, restart):
    client.force_login(catalog_admin)
    add = reverse("admin:actions_runbook_add")
    page = client.get(add)
    data = steps_data(
        page, {"order": "10", "text": "Restart", "action": str(restart.pk), "parameters": '{"nope": "1"}'}
    )
    data.update(title="T")

    response = client.post(add, data)

    assert response.status_code == 200
    assert "declares no parameter" in response.content.decode()
    assert not Runbook.objects.exists()


def test_admin_changelist_runs_a_fixed_number_of_queries(
    client, catalog_admin, restart, django_assert_num_queries
):
    for n in range(5):
        runbook_create(
            by=Actor.system(), title=f"R{n}", steps=[{"text": "a", "action": restart}, {"text": "b"}]
        )
    client.force_login(catalog_admin)

    with django_assert_num_queries(8):  # Session, user, permissions (2), service filter, count, page, steps.
        response = client.get(reverse("admin:actions_runbook_changelist"))
    assert response.status_code == 200 and "R4" in response.content.decode()


def test_an_alert_rule_names_a_runbook_through_the_api(catalog_admin):
    runbook = runbook_create(by=Actor.system(), title="Instance down", steps=[{"text": "Ping it."}])
    api = client_for(catalog_admin)

    created = api.post(
        "/api/v1/alert-rules/",
        {
            "name": "Down",
            "matchers": [{"label": "alertname", "op": "eq", "value": "Down"}],
            "runbook": runbook.pk,
        },
        format="json",
    )
    assert created.status_code == 201, created.data
    assert created.data["runbook_id"] == runbook.pk

    missing = api.patch(f"/api/v1/alert-rules/{created.data['id']}/", {"runbook": 999999}, format="json")
    assert missing.status_code == 400 and "runbook" in missing.data
