"""The provider page's Test connection, and fetching and pinning a host's key."""

import pytest
from django.urls import reverse

from actions import runners
from actions.models import Provider
from actions.runners.base import RunnerError
from actions.runners.hostkeys import host_key_fingerprint
from tests.actions.factories import new_keypair
from tests.admin_support import change_url, flashed

# --- Test connection, fetch and pin the host key ---------------------------------------------------
# actions.runners provides connection_test and host_key_fetch; they are replaced here so nothing
# connects anywhere (tests/actions/test_runner_*.py test the real ones against a real sshd).


def test_test_connection_reports_latency(client, admin_user, secret_provider, monkeypatch):
    seen = []
    monkeypatch.setattr(
        runners, "connection_test", lambda p: seen.append(p.pk) or (True, 42.5, ""), raising=False
    )
    client.force_login(admin_user)

    response = client.post(reverse("admin:actions_provider_test_connection", args=[secret_provider.pk]))

    assert response.status_code == 302
    assert response.url == change_url(secret_provider)
    assert seen == [secret_provider.pk]
    assert flashed(response) == ["Connected to db-1 (ops@10.0.0.5:22) and ran a command in 42.5 ms."]


def test_test_connection_reports_the_exact_error(client, admin_user, secret_provider, monkeypatch):
    error = "auth_failed: ops@10.0.0.5:22 refused the password."
    monkeypatch.setattr(runners, "connection_test", lambda p: (False, None, error), raising=False)
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:actions_provider_test_connection", args=[secret_provider.pk]), follow=True
    )

    assert f"Could not run a command on db-1 (ops@10.0.0.5:22): {error}" in flashed(response)
    assert error in response.content.decode()


def test_provider_tools_are_post_only_and_need_the_change_permission(
    client, viewer, catalog_admin, secret_provider, monkeypatch
):
    monkeypatch.setattr(runners, "connection_test", lambda p: pytest.fail("connected"), raising=False)
    url = reverse("admin:actions_provider_test_connection", args=[secret_provider.pk])
    client.force_login(catalog_admin)
    assert client.get(url).status_code == 405
    html = client.get(change_url(secret_provider)).content.decode()
    assert 'data-tool="test-connection"' in html and 'data-tool="fetch-host-key"' in html

    client.force_login(viewer)
    assert client.post(url).status_code == 403
    assert 'data-tool="test-connection"' not in client.get(change_url(secret_provider)).content.decode()


def test_fetch_shows_the_fingerprint_and_pin_stores_the_key(client, admin_user, secret_provider, monkeypatch):
    _, public = new_keypair()
    fingerprint = host_key_fingerprint(public)
    monkeypatch.setattr(runners, "host_key_fetch", lambda p: (public, fingerprint), raising=False)
    client.force_login(admin_user)

    page = client.post(reverse("admin:actions_provider_host_key_fetch", args=[secret_provider.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    assert fingerprint in html and fingerprint.startswith("SHA256:")
    assert "Pin this key" in html
    assert Provider.objects.get(pk=secret_provider.pk).host_key == ""  # Nothing pinned yet.

    token = page.context["form"]["token"].value()
    response = client.post(page.context["pin_url"], {"token": token})

    assert response.status_code == 302
    assert Provider.objects.get(pk=secret_provider.pk).host_key == public.strip()
    assert flashed(response) == [f"Pinned the host key of db-1: ssh-ed25519 {fingerprint}."]
    assert fingerprint in client.get(change_url(secret_provider)).content.decode()


def test_fetch_warns_when_the_key_differs_from_the_pinned_one(
    client, admin_user, secret_provider, monkeypatch
):
    _, old = new_keypair()
    _, new = new_keypair()
    secret_provider.host_key = old
    secret_provider.save()
    monkeypatch.setattr(runners, "host_key_fetch", lambda p: (new, host_key_fingerprint(new)), raising=False)
    client.force_login(admin_user)

    html = client.post(reverse("admin:actions_provider_host_key_fetch", args=[secret_provider.pk])).content

    assert b"This is not the key pinned now" in html
    assert host_key_fingerprint(old).encode() in html


def test_pin_refuses_an_altered_confirmation(client, admin_user, secret_provider, monkeypatch):
    _, public = new_keypair()
    _, other = new_keypair()
    monkeypatch.setattr(
        runners, "host_key_fetch", lambda p: (public, host_key_fingerprint(public)), raising=False
    )
    client.force_login(admin_user)
    page = client.post(reverse("admin:actions_provider_host_key_fetch", args=[secret_provider.pk]))
    token = page.context["form"]["token"].value()
    forged = token.replace(token.split(":")[0], token.split(":")[0][::-1])

    for bad in (forged, "not-a-token"):
        response = client.post(page.context["pin_url"], {"token": bad, "host_key": other})
        assert response.status_code == 302
        assert "fetch the host key again" in flashed(response)[0]
    assert Provider.objects.get(pk=secret_provider.pk).host_key == ""


def test_fetch_error_is_a_message(client, admin_user, secret_provider, monkeypatch):
    def unreachable(provider):
        raise RunnerError("unreachable", "10.0.0.5:22: no route to host.")

    monkeypatch.setattr(runners, "host_key_fetch", unreachable, raising=False)
    client.force_login(admin_user)

    response = client.post(reverse("admin:actions_provider_host_key_fetch", args=[secret_provider.pk]))

    assert response.status_code == 302
    assert flashed(response) == [
        "Could not fetch the host key of db-1 (ops@10.0.0.5:22): unreachable: 10.0.0.5:22: no route to host."
    ]


def test_local_provider_has_no_fetch_button(client, admin_user, provider_factory):
    local = provider_factory(name="worker")
    client.force_login(admin_user)

    html = client.get(change_url(local)).content.decode()

    assert 'data-tool="test-connection"' in html
    assert 'data-tool="fetch-host-key"' not in html
    assert "Not needed" in html
