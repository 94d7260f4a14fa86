"""REST API: providers: secrets write-only (never shown back, not even in the browsable API),
create, edit, list and delete."""

import json

import pytest

from actions.models import Provider
from tests.actions.api_support import api_url, private_key_text, public_key_text, token_client

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Unguessable-7c1f9e"
PASSPHRASE = "passphrase-Unguessable-42ab"


def assert_no_secret(response, *secrets: str) -> None:
    """Not the secret, not its JSON-escaped form, not any line of it (a key's base64 lines)."""
    body = response.content.decode()
    for secret in secrets:
        assert secret not in body
        assert json.dumps(secret)[1:-1] not in body
        for line in secret.splitlines():
            if len(line) >= 16 and not line.startswith("-----"):
                assert line not in body


def ssh_body(**overrides) -> dict:
    return {"name": "db-1", "kind": "ssh", "address": "10.0.0.5", "username": "ops", **overrides}


# --- Secrets are write-only -------------------------------------------------------------------------


def test_create_an_ssh_provider_with_a_key(api):
    key = private_key_text()

    response = api.post(api_url("providers"), ssh_body(private_key=key, port=2222, tags=["db", "eu"]))

    assert response.status_code == 201, response.data
    provider = Provider.objects.get(pk=response.data["id"])
    assert provider.private_key == key
    assert response.data["private_key_set"] is True
    assert response.data["password_set"] is False
    assert response.data["passphrase_set"] is False
    assert response.data["port"] == 2222
    assert response.data["tags"] == ["db", "eu"]
    assert response.data["host_key"] == ""
    assert response.data["host_key_fingerprint"] is None
    for secret in ("private_key", "passphrase", "password"):
        assert secret not in response.data
    assert_no_secret(response, key)


def test_secrets_never_appear_in_any_response(api):
    key = private_key_text()
    created = api.post(
        api_url("providers"),
        ssh_body(auth_method="password", password=PASSWORD, private_key=key, passphrase=""),
    )
    assert created.status_code == 201, created.data
    provider = Provider.objects.get(pk=created.data["id"])

    retrieved = api.get(api_url("providers", provider))
    listed = api.get(api_url("providers"))
    new_password = PASSWORD + "-rotated"
    patched = api.patch(api_url("providers", provider), {"password": new_password, "use_sudo": True})

    for response in (created, retrieved, listed, patched):
        assert response.status_code in (200, 201), response.data
        assert_no_secret(response, key, PASSWORD, new_password)
    assert patched.data["password_set"] is True
    assert patched.data["private_key_set"] is True
    provider.refresh_from_db()
    assert provider.password == new_password


def test_a_passphrase_protected_key_is_checked_and_kept_secret(api):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.BestAvailableEncryption(PASSPHRASE.encode()),
        )
        .decode()
    )

    without = api.post(api_url("providers"), ssh_body(private_key=key))
    wrong = api.post(api_url("providers"), ssh_body(private_key=key, passphrase="wrong"))
    right = api.post(api_url("providers"), ssh_body(private_key=key, passphrase=PASSPHRASE))

    assert without.status_code == 400
    assert "passphrase" in without.data["private_key"][0]
    assert wrong.status_code == 400
    assert right.status_code == 201, right.data
    assert right.data["passphrase_set"] is True
    for response in (without, wrong, right):
        assert_no_secret(response, key, PASSPHRASE)


def test_a_bad_key_is_400_without_echoing_it(api):
    bogus = "-----BEGIN OPENSSH PRIVATE KEY-----\nbm90LWEta2V5LW1hcmtlci1zZWNyZXQtdmFsdWU=\n-----END"

    response = api.post(api_url("providers"), ssh_body(private_key=bogus))

    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    [message] = response.data["private_key"]
    assert message.startswith("The private key cannot be read")
    assert_no_secret(response, bogus)
    assert not Provider.objects.exists()


def test_patch_keeps_secrets_left_out_and_clears_an_empty_one(api, provider_factory):
    provider = provider_factory(ssh=True, password=PASSWORD, private_key=private_key_text())

    kept = api.patch(api_url("providers", provider), {"username": "deploy"})
    cleared = api.patch(api_url("providers", provider), {"private_key": ""})

    assert kept.status_code == 200, kept.data
    assert kept.data["private_key_set"] is True
    assert cleared.status_code == 200, cleared.data
    assert cleared.data["private_key_set"] is False
    assert cleared.data["password_set"] is True
    provider.refresh_from_db()
    assert (provider.username, provider.private_key, provider.password) == ("deploy", "", PASSWORD)


def test_a_password_is_not_trimmed(api, provider_factory):
    provider = provider_factory(ssh=True)

    response = api.patch(api_url("providers", provider), {"password": " spaced out "})

    assert response.status_code == 200
    provider.refresh_from_db()
    assert provider.password == " spaced out "


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "kind": "ssh"}, "address"),
        ({"name": "x", "kind": "ssh", "address": "h", "username": "u"}, "private_key"),
        (
            {"name": "x", "kind": "ssh", "address": "h", "username": "u", "auth_method": "password"},
            "password",
        ),
        ({"name": "x", "kind": "telnet"}, "kind"),
        ({"name": "x", "port": 70000}, "port"),
        ({"name": "x", "tags": "db"}, "tags"),
        ({"name": "x", "host_key": "ssh-ed25519 AAAA"}, "host_key"),
        ({"kind": "local"}, "name"),
    ],
)
def test_create_reports_bad_fields(api, body, field):
    response = api.post(api_url("providers"), body)

    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert field in response.data
    assert not Provider.objects.exists()


def test_create_with_a_taken_name_is_400(api, provider_factory):
    provider_factory(name="db-1")

    response = api.post(api_url("providers"), ssh_body(auth_method="password", password=PASSWORD))

    assert response.status_code == 400
    assert "name" in response.data


def test_local_providers_only_where_allowed(api, settings):
    settings.ALLOW_LOCAL_PROVIDER = False
    refused = api.post(api_url("providers"), {"name": "worker", "kind": "local"})
    settings.ALLOW_LOCAL_PROVIDER = True
    allowed = api.post(api_url("providers"), {"name": "worker", "kind": "local"})

    assert refused.status_code == 400
    assert "ALLOW_LOCAL_PROVIDER" in refused.data["kind"][0]
    assert allowed.status_code == 201, allowed.data
    assert allowed.data["kind"] == "local"


def test_list_and_filter_providers(api, provider_factory):
    local = provider_factory(name="worker")
    db = provider_factory(name="db-1", ssh=True, address="10.0.0.5")
    off = provider_factory(name="db-2", ssh=True, address="10.9.9.9", enabled=False)

    def names(params=None):
        response = api.get(api_url("providers"), params or {})
        assert response.status_code == 200, response.data
        return [row["name"] for row in response.data["results"]]

    assert names() == ["db-1", "db-2", "worker"]
    assert names({"kind": "local"}) == [local.name]
    assert names({"enabled": "false"}) == [off.name]
    assert names({"search": "10.0.0.5"}) == [db.name]
    assert names({"search": "db"}) == ["db-1", "db-2"]


def test_retrieve_shows_the_provider(api, provider_factory):
    provider = provider_factory(ssh=True, name="web-1", use_sudo=True)

    response = api.get(api_url("providers", provider))

    assert response.status_code == 200
    assert response.data["name"] == "web-1"
    assert response.data["kind"] == "ssh"
    assert response.data["use_sudo"] is True
    assert response.data["password_set"] is True


def test_put_is_not_offered(api, provider_factory):
    provider = provider_factory()

    response = api.put(api_url("providers", provider), {"name": "x"})

    assert response.status_code == 405


# --- Delete only what nothing uses ------------------------------------------------------------------


def test_delete_an_unused_provider(api, provider_factory, step_run_factory):
    provider = provider_factory()
    past = step_run_factory(provider=provider)

    response = api.delete(api_url("providers", provider))

    assert response.status_code == 204
    assert not Provider.objects.filter(pk=provider.pk).exists()
    past.refresh_from_db()
    assert past.provider is None
    assert past.host == provider.name


def test_a_provider_a_step_uses_is_not_deleted(api, provider_factory, action_step_factory):
    provider = provider_factory()
    action_step_factory(provider=provider, action__name="Restart nginx")

    response = api.delete(api_url("providers", provider))

    assert response.status_code == 409
    assert response.data["code"] == "in_use"
    assert "Restart nginx" in response.data["detail"]
    assert response.data["used_by"] == ["action Restart nginx"]
    assert Provider.objects.filter(pk=provider.pk).exists()


def test_a_provider_a_group_lists_is_not_deleted(api, provider_factory, provider_group_factory):
    provider = provider_factory()
    provider_group_factory(name="web-tier", providers=[provider])

    response = api.delete(api_url("providers", provider))

    assert response.status_code == 409
    assert response.data["used_by"] == ["group web-tier"]


# --- Query counts -----------------------------------------------------------------------------------
# Token authentication: token + user (1), permissions (2), then count (1) and the providers (1).
PROVIDER_LIST_QUERIES = 5


@pytest.mark.parametrize("size", [1, 30])
def test_provider_list_runs_a_constant_number_of_queries(
    viewer, provider_factory, size, django_assert_num_queries
):
    for i in range(size):
        provider_factory(
            ssh=True, private_key=private_key_text() if i % 2 else "", host_key=public_key_text()
        )
    client = token_client(viewer)

    with django_assert_num_queries(PROVIDER_LIST_QUERIES):
        response = client.get(api_url("providers"))

    assert len(response.data["results"]) == size
    assert all(row["host_key_fingerprint"] for row in response.data["results"])


def test_the_browsable_api_shows_no_secret_either(client, catalog_admin, provider_factory):
    key = private_key_text()
    provider = provider_factory(ssh=True, password=PASSWORD, private_key=key)
    client.force_login(catalog_admin)

    for url in (api_url("providers"), api_url("providers", provider)):
        response = client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200
        assert_no_secret(response, key, PASSWORD)
