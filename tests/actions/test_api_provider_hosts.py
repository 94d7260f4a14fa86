"""REST API: a provider's host key, fetched, confirmed and then pinned on purpose; and the
connection test."""

import pytest

from actions import runners
from actions.runners import RunnerError, host_key_fingerprint
from tests.actions.api_support import api_url, public_key_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def local_allowed(settings):
    settings.ALLOW_LOCAL_PROVIDER = True


# --- Host keys: fetched, confirmed, then pinned ----------------------------------------------------


def test_fetch_host_key_shows_it_without_storing_it(api, provider_factory, monkeypatch):
    provider = provider_factory(ssh=True)
    host_key = public_key_text()
    seen = []

    def fetch(p):
        seen.append(p.pk)
        return host_key, host_key_fingerprint(host_key)

    monkeypatch.setattr(runners, "host_key_fetch", fetch)

    response = api.post(api_url("providers", provider, "fetch-host-key"))

    assert response.status_code == 200, response.data
    assert response.data == {"host_key": host_key, "fingerprint": host_key_fingerprint(host_key)}
    assert seen == [provider.pk]
    provider.refresh_from_db()
    assert provider.host_key == ""


def test_fetch_host_key_from_an_unreachable_host_is_502(api, provider_factory, monkeypatch):
    provider = provider_factory(ssh=True)

    def fetch(p):
        raise RunnerError("unreachable", f"{p.address}:22 cannot be reached: no route to host.")

    monkeypatch.setattr(runners, "host_key_fetch", fetch)

    response = api.post(api_url("providers", provider, "fetch-host-key"))

    assert response.status_code == 502
    assert response.data["code"] == "unreachable"
    assert "no route to host" in response.data["detail"]


def test_a_local_provider_has_no_host_key_to_fetch(api, provider_factory, monkeypatch):
    monkeypatch.setattr(runners, "host_key_fetch", lambda p: pytest.fail("must not connect"))

    response = api.post(api_url("providers", provider_factory(), "fetch-host-key"))

    assert response.status_code == 400
    assert response.data["code"] == "invalid"


def test_pin_the_confirmed_host_key(api, provider_factory):
    provider = provider_factory(ssh=True)
    host_key = public_key_text()
    fingerprint = host_key_fingerprint(host_key)

    response = api.post(
        api_url("providers", provider, "pin-host-key"), {"host_key": host_key, "fingerprint": fingerprint}
    )

    assert response.status_code == 200, response.data
    assert response.data["host_key"] == host_key
    assert response.data["host_key_fingerprint"] == fingerprint
    assert fingerprint.startswith("SHA256:") and not fingerprint.endswith("=")
    provider.refresh_from_db()
    assert provider.host_key == host_key


def test_pin_accepts_the_fingerprint_as_pasted(api, provider_factory):
    provider = provider_factory(ssh=True)
    host_key = public_key_text()
    bare = host_key_fingerprint(host_key).removeprefix("SHA256:") + "="

    response = api.post(
        api_url("providers", provider, "pin-host-key"),
        {"host_key": host_key + " root@db-1", "fingerprint": f"  {bare} "},
    )

    assert response.status_code == 200, response.data
    assert response.data["host_key"] == host_key


def test_pin_with_another_keys_fingerprint_pins_nothing(api, provider_factory):
    provider = provider_factory(ssh=True)
    host_key, other = public_key_text(), public_key_text()

    response = api.post(
        api_url("providers", provider, "pin-host-key"),
        {"host_key": host_key, "fingerprint": host_key_fingerprint(other)},
    )

    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert host_key_fingerprint(host_key) in response.data["fingerprint"][0]
    provider.refresh_from_db()
    assert provider.host_key == ""


@pytest.mark.parametrize(
    "host_key", ["not a key", "ssh-ed25519 !!!notbase64", "ssh-ed25519 AAAAB3NzaC1yc2E="]
)
def test_pin_refuses_an_unreadable_key(api, provider_factory, host_key):
    provider = provider_factory(ssh=True)

    response = api.post(
        api_url("providers", provider, "pin-host-key"), {"host_key": host_key, "fingerprint": "SHA256:x"}
    )

    assert response.status_code == 400
    assert "host_key" in response.data
    provider.refresh_from_db()
    assert provider.host_key == ""


def test_pin_needs_both_fields(api, provider_factory):
    response = api.post(api_url("providers", provider_factory(ssh=True), "pin-host-key"), {})

    assert response.status_code == 400
    assert set(response.data) == {"detail", "code", "host_key", "fingerprint"}


def test_moving_a_provider_drops_its_pinned_key(api, provider_factory):
    provider = provider_factory(ssh=True, host_key=public_key_text())

    response = api.patch(api_url("providers", provider), {"address": "10.9.9.9"})

    assert response.status_code == 200
    assert response.data["host_key"] == ""
    assert response.data["host_key_fingerprint"] is None


# --- Connection test --------------------------------------------------------------------------------


def test_connection_test_reports_success(api, provider_factory, monkeypatch):
    provider = provider_factory(ssh=True)
    monkeypatch.setattr(runners, "connection_test", lambda p: (True, 12.5, ""))

    response = api.post(api_url("providers", provider, "test"))

    assert response.status_code == 200
    assert response.data == {"ok": True, "latency_ms": 12.5, "error": ""}


def test_connection_test_reports_failure_as_200(api, provider_factory, monkeypatch):
    provider = provider_factory(ssh=True)
    monkeypatch.setattr(
        runners, "connection_test", lambda p: (False, None, "auth_failed: the host refused the key.")
    )

    response = api.post(api_url("providers", provider, "test"))

    assert response.status_code == 200
    assert response.data == {
        "ok": False,
        "latency_ms": None,
        "error": "auth_failed: the host refused the key.",
    }


def test_connection_test_on_the_worker_itself(api, provider_factory, local_allowed):
    """The local runner is real and needs no SSH: `true` runs on this machine."""
    response = api.post(api_url("providers", provider_factory(), "test"))

    assert response.status_code == 200, response.data
    assert response.data["ok"] is True, response.data
    assert response.data["latency_ms"] >= 0
    assert response.data["error"] == ""
