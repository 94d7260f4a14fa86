"""API tokens are stored hashed: the key exists only in the answer that issued it. Tokens expire
and can be revoked, in the admin and through the API; `Authorization: Token <key>` keeps working."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from rest_framework.test import APIClient

from common.models import ApiToken
from common.services import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db

INCIDENTS = "/api/v1/incidents/"


def with_key(key: str, **extra) -> APIClient:
    return APIClient(HTTP_AUTHORIZATION=f"Token {key}", **extra)


def stored_text() -> str:
    """Every column of every token row, as one string."""
    return repr(list(ApiToken.objects.values_list()))


def test_only_a_hash_is_stored_and_the_key_authenticates(viewer):
    token, key = api_token_create(user=viewer, name="deploy pipeline")

    assert key not in stored_text()
    assert key[8:] not in stored_text()
    assert token.digest == hashlib.sha256(key.encode()).hexdigest()
    assert key.startswith(token.prefix)
    assert token.expires_at == pytest.approx(timezone.now() + timedelta(days=90), abs=timedelta(minutes=1))
    response = with_key(key).get(INCIDENTS)
    assert response.status_code == 200


@pytest.mark.parametrize("header", ["Token", "Token a b", "Token mtg_not-a-real-key", "Token \xe9\xe8"])
def test_malformed_or_unknown_keys_are_401(db, header):
    response = APIClient(HTTP_AUTHORIZATION=header).get(INCIDENTS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_expired_and_revoked_tokens_stop_working(viewer, admin_user):
    expiring, expiring_key = api_token_create(
        user=viewer, name="short", expires_at=timezone.now() + timedelta(hours=1)
    )
    revoked, revoked_key = api_token_create(user=viewer, name="leaked")
    assert with_key(expiring_key).get(INCIDENTS).status_code == 200

    ApiToken.objects.filter(pk=expiring.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    api_token_revoke(token=revoked, by=admin_user)

    for key in (expiring_key, revoked_key):
        response = with_key(key).get(INCIDENTS)
        assert response.status_code == 401
        assert response.json()["detail"] == "Invalid, expired or revoked token."
    revoked.refresh_from_db()
    assert revoked.status == "revoked" and revoked.revoked_by == admin_user


def test_an_inactive_users_token_is_refused(viewer):
    _, key = api_token_create(user=viewer, name="ci")
    viewer.is_active = False
    viewer.save()
    assert with_key(key).get(INCIDENTS).status_code == 401


# --- The API -----------------------------------------------------------------------------------


def test_issue_list_and_revoke_through_the_api(viewer):
    session = APIClient()
    session.force_login(viewer)

    created = session.post("/api/v1/tokens/", {"name": "grafana"})

    assert created.status_code == 201, created.json()
    assert created["Cache-Control"] == "no-store"
    body = created.json()
    key = body["key"]
    assert body["status"] == "active" and body["name"] == "grafana" and key.startswith(body["prefix"])
    assert key not in stored_text()
    listed = session.get("/api/v1/tokens/").json()
    assert [t["id"] for t in listed["results"]] == [body["id"]]
    assert "key" not in listed["results"][0]
    # The new key works, and can revoke itself (log out).
    tooling = with_key(key)
    assert tooling.get(INCIDENTS).status_code == 200
    revoked = tooling.post(f"/api/v1/tokens/{body['id']}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert tooling.get(INCIDENTS).status_code == 401
    again = session.post(f"/api/v1/tokens/{body['id']}/revoke/")
    assert again.status_code == 409 and again.json()["code"] == "conflict"


def test_the_api_takes_an_expiry_and_refuses_one_in_the_past(viewer):
    session = APIClient()
    session.force_login(viewer)
    when = (timezone.now() + timedelta(days=7)).replace(microsecond=0)

    ok = session.post("/api/v1/tokens/", {"name": "a week", "expires_at": when.isoformat()})
    past = session.post("/api/v1/tokens/", {"name": "never", "expires_at": "2001-01-01T00:00:00Z"})
    unknown = session.post("/api/v1/tokens/", {"name": "x", "user": 1})

    assert ok.status_code == 201 and ApiToken.objects.get(pk=ok.json()["id"]).expires_at == when
    assert past.status_code == 400 and "expires_at" in past.json()
    assert unknown.status_code == 400 and "user" in unknown.json()
    assert ApiToken.objects.count() == 1


def test_a_token_cannot_issue_tokens(viewer):
    _, key = api_token_create(user=viewer, name="ci")

    response = with_key(key).post("/api/v1/tokens/", {"name": "successor"})

    assert response.status_code == 403
    assert ApiToken.objects.count() == 1


def test_tokens_of_others_are_invisible(viewer, responder):
    theirs, _ = api_token_create(user=responder, name="theirs")
    session = APIClient()
    session.force_login(viewer)

    assert session.get("/api/v1/tokens/").json()["count"] == 0
    assert session.post(f"/api/v1/tokens/{theirs.pk}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_anonymous_gets_nothing(db):
    assert APIClient().get("/api/v1/tokens/").status_code == 401
    assert APIClient().post("/api/v1/tokens/", {"name": "x"}).status_code == 401


# --- The admin ---------------------------------------------------------------------------------


def test_the_admin_issues_a_token_shown_once_and_revokes_it(client, admin_user, viewer):
    client.force_login(admin_user)

    page = client.post(
        "/admin/common/apitoken/add/", {"user": viewer.pk, "name": "backup job", "expires_in_days": 30}
    )

    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    key = re.search(r'<code id="api-token-key"[^>]*>([^<]+)</code>', page.content.decode()).group(1)
    token = ApiToken.objects.get()
    assert token.user == viewer and token.name == "backup job"
    assert token.expires_at == pytest.approx(timezone.now() + timedelta(days=30), abs=timedelta(minutes=1))
    assert with_key(key).get(INCIDENTS).status_code == 200
    # Never shown again: not in the list, not on the token's page.
    for url in ("/admin/common/apitoken/", f"/admin/common/apitoken/{token.pk}/change/"):
        shown = client.get(url)
        assert shown.status_code == 200 and key not in shown.content.decode()
        assert token.prefix in shown.content.decode()

    revoked = client.post(
        "/admin/common/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}, follow=True
    )

    assert "Revoked 1 token(s)" in revoked.content.decode()
    for status, expected in [("revoked", [token]), ("active", []), ("expired", [])]:
        listed = client.get("/admin/common/apitoken/", {"status": status})
        assert list(listed.context["cl"].result_list) == expected, status
    assert with_key(key).get(INCIDENTS).status_code == 401


def test_the_admin_form_refuses_bad_input(client, admin_user, viewer):
    client.force_login(admin_user)
    page = client.post("/admin/common/apitoken/add/", {"user": viewer.pk, "name": "", "expires_in_days": 0})
    assert page.status_code == 200
    assert page.context["form"].errors.keys() == {"name", "expires_in_days"}
    assert not ApiToken.objects.exists()


def test_the_admin_group_may_issue_and_revoke_but_viewers_may_not(client, user_factory, viewer):
    ops_admin = user_factory(groups=["Admin"])
    client.force_login(ops_admin)
    assert client.get("/admin/common/apitoken/add/").status_code == 200
    assert client.get("/admin/axes/accessattempt/").status_code == 200
    client.force_login(viewer)
    assert client.get("/admin/common/apitoken/add/").status_code == 403


# --- Tokens from before hashing ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_plain_drf_tokens_are_hashed_and_their_table_dropped(user_factory):
    """The real data migration, run again over an old `authtoken_token` table: the row keeps
    working under the same key, only its hash is stored, the plain-text table is gone."""
    viewer = user_factory(groups=["Viewer"])
    old_key = "0123456789abcdef0123456789abcdef01234567"
    executor = MigrationExecutor(connection)
    executor.migrate([("common", "0001_api_tokens")])
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp, user_id integer)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, %s, %s)",
            [old_key, timezone.now(), viewer.pk],
        )

    try:
        executor = MigrationExecutor(connection)
        executor.migrate([("common", "0002_hash_drf_tokens")])

        assert "authtoken_token" not in connection.introspection.table_names()
        assert old_key not in stored_text()
        assert with_key(old_key).get(INCIDENTS).status_code == 200
        assert ApiToken.objects.get().expires_at > timezone.now() + timedelta(days=89)
    finally:
        # Forward to the latest again: left at 0002, the later migrations' tables (the outbox) were
        # missing for every test after this one in the session.
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_schema_is_whole_after_the_migration_test():
    """Runs after the test above (pytest-django runs transactional tests after the others, in file
    order): every model's table is there again."""
    tables = set(connection.introspection.table_names())
    assert {model._meta.db_table for model in apps.get_models() if model._meta.managed} <= tables
