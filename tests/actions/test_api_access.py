"""Actions REST API: who may do what, anonymous access, the schema and the browsable API."""

import pytest

from actions import runners
from actions.choices import RunStatus
from actions.models import Action, ActionRun, Provider, ProviderGroup
from tests.actions.api_support import api_url, client_for, public_key_text, request_run, token_client

pytestmark = pytest.mark.django_db

GROUPS = ["anonymous", "Viewer", "Responder", "Approver", "Admin"]
READERS = ("Viewer", "Responder", "Approver", "Admin")
RUNNERS = ("Responder", "Approver", "Admin")
APPROVERS = ("Approver", "Admin")
MANAGERS = ("Admin",)


@pytest.fixture
def client_as(user_factory):
    def make(group: str):
        if group == "anonymous":
            return client_for(None)
        return token_client(user_factory(username=f"{group.lower()}-member", groups=[group]))

    return make


@pytest.fixture
def requester(user_factory):
    """Someone else asked for the runs, so four eyes never stands in the way of these tests."""
    return user_factory(username="requester", groups=["Responder"])


def expected(group: str, allowed: int, *, who: tuple[str, ...]) -> int:
    if group == "anonymous":
        return 401
    return allowed if group in who else 403


@pytest.mark.parametrize("group", GROUPS)
def test_read_everything(
    client_as, provider_factory, provider_group_factory, runnable_action, requester, group
):
    provider = provider_factory()
    provider_group = provider_group_factory(providers=[provider])
    action = runnable_action()
    run = request_run(action, requester)
    client = client_as(group)

    for url in (
        api_url("providers"),
        api_url("providers", provider),
        api_url("provider-groups"),
        api_url("provider-groups", provider_group),
        api_url("actions"),
        api_url("actions", action),
        api_url("action-runs"),
        api_url("action-runs", run),
    ):
        assert client.get(url).status_code == expected(group, 200, who=READERS), url


@pytest.mark.parametrize("group", GROUPS)
def test_manage_providers(client_as, provider_factory, settings, group):
    settings.ALLOW_LOCAL_PROVIDER = True
    existing = provider_factory()
    unused = provider_factory()
    client = client_as(group)

    created = client.post(api_url("providers"), {"name": "worker", "kind": "local"})
    patched = client.patch(api_url("providers", existing), {"tags": ["web"]})
    deleted = client.delete(api_url("providers", unused))

    assert created.status_code == expected(group, 201, who=MANAGERS)
    assert patched.status_code == expected(group, 200, who=MANAGERS)
    assert deleted.status_code == expected(group, 204, who=MANAGERS)
    allowed = group in MANAGERS
    assert Provider.objects.filter(name="worker").exists() == allowed
    assert Provider.objects.filter(pk=unused.pk).exists() != allowed


@pytest.mark.parametrize("group", GROUPS)
def test_host_checks_are_for_those_who_manage_providers(client_as, provider_factory, monkeypatch, group):
    provider = provider_factory(ssh=True)
    host_key = public_key_text()
    monkeypatch.setattr(runners, "connection_test", lambda p: (True, 1.0, ""))
    monkeypatch.setattr(
        runners, "host_key_fetch", lambda p: (host_key, runners.host_key_fingerprint(host_key))
    )
    client = client_as(group)

    tested = client.post(api_url("providers", provider, "test"))
    fetched = client.post(api_url("providers", provider, "fetch-host-key"))
    pinned = client.post(
        api_url("providers", provider, "pin-host-key"),
        {"host_key": host_key, "fingerprint": runners.host_key_fingerprint(host_key)},
    )

    assert tested.status_code == expected(group, 200, who=MANAGERS)
    assert fetched.status_code == expected(group, 200, who=MANAGERS)
    assert pinned.status_code == expected(group, 200, who=MANAGERS)
    provider.refresh_from_db()
    assert (provider.host_key == host_key) == (group in MANAGERS)


@pytest.mark.parametrize("group", GROUPS)
def test_manage_provider_groups(client_as, provider_group_factory, group):
    existing = provider_group_factory()
    unused = provider_group_factory()
    client = client_as(group)

    created = client.post(api_url("provider-groups"), {"name": "web-tier"})
    patched = client.patch(api_url("provider-groups", existing), {"max_parallel": 3})
    deleted = client.delete(api_url("provider-groups", unused))

    assert created.status_code == expected(group, 201, who=MANAGERS)
    assert patched.status_code == expected(group, 200, who=MANAGERS)
    assert deleted.status_code == expected(group, 204, who=MANAGERS)
    assert ProviderGroup.objects.filter(name="web-tier").exists() == (group in MANAGERS)


@pytest.mark.parametrize("group", GROUPS)
def test_manage_actions(client_as, provider_factory, runnable_action, group):
    provider = provider_factory()
    existing = runnable_action()
    client = client_as(group)

    created = client.post(
        api_url("actions"),
        {"name": "Uptime", "steps": [{"name": "Uptime", "provider": provider.pk, "command": "uptime"}]},
    )
    patched = client.patch(api_url("actions", existing), {"description": "Edited"})

    assert created.status_code == expected(group, 201, who=MANAGERS)
    assert patched.status_code == expected(group, 200, who=MANAGERS)
    assert Action.objects.filter(name="Uptime").exists() == (group in MANAGERS)


@pytest.mark.parametrize("group", GROUPS)
def test_run_an_action(client_as, runnable_action, group):
    response = client_as(group).post(api_url("actions", runnable_action(), "run"), {})

    assert response.status_code == expected(group, 201, who=RUNNERS)
    assert ActionRun.objects.exists() == (response.status_code == 201)
    if response.status_code == 403:
        assert response.data["code"] == "permission_denied"


@pytest.mark.parametrize("group", GROUPS)
def test_cancel_a_run(client_as, runnable_action, requester, group):
    run = request_run(runnable_action(), requester)

    response = client_as(group).post(api_url("action-runs", run, "cancel"))

    assert response.status_code == expected(group, 200, who=RUNNERS)
    run.refresh_from_db()
    assert (run.status == RunStatus.CANCELLED) == (response.status_code == 200)


@pytest.mark.parametrize("decision", ["approve", "reject"])
@pytest.mark.parametrize("group", GROUPS)
def test_approve_or_reject_a_run(client_as, runnable_action, requester, group, decision):
    run = request_run(runnable_action(risk="high"), requester)

    response = client_as(group).post(api_url("action-runs", run, decision), {"comment": "ok"})

    assert response.status_code == expected(group, 200, who=APPROVERS)
    run.refresh_from_db()
    assert (run.status == RunStatus.AWAITING_APPROVAL) == (response.status_code != 200)


def test_a_user_without_any_group_sees_nothing(user_factory, runnable_action):
    runnable_action()
    client = token_client(user_factory())

    for resource in ("providers", "provider-groups", "actions", "action-runs"):
        assert client.get(api_url(resource)).status_code == 403


def test_superuser_may_do_everything(admin_user, runnable_action, requester, settings):
    settings.ALLOW_LOCAL_PROVIDER = True
    client = client_for(admin_user)
    run = request_run(runnable_action(risk="high"), requester)

    assert client.post(api_url("providers"), {"name": "worker", "kind": "local"}).status_code == 201
    assert client.post(api_url("action-runs", run, "approve")).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/providers/",
        "/api/v1/providers/1/",
        "/api/v1/provider-groups/",
        "/api/v1/provider-groups/1/",
        "/api/v1/actions/",
        "/api/v1/actions/1/",
        "/api/v1/action-runs/",
        "/api/v1/action-runs/1/",
    ],
)
def test_anonymous_reads_are_refused(db, url):
    response = client_for(None).get(url, HTTP_ACCEPT="application/json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("resource", "action"),
    [
        ("providers", "test"),
        ("providers", "fetch-host-key"),
        ("providers", "pin-host-key"),
        ("actions", "run"),
        ("action-runs", "approve"),
        ("action-runs", "reject"),
        ("action-runs", "cancel"),
    ],
)
def test_anonymous_actions_are_refused(db, resource, action):
    response = client_for(None).post(api_url(resource, 1, action), {})

    assert response.status_code == 401


def test_anonymous_writes_are_refused(provider_factory):
    provider = provider_factory()
    client = client_for(None)

    assert client.post(api_url("providers"), {"name": "x"}).status_code == 401
    assert client.patch(api_url("providers", provider), {"name": "x"}).status_code == 401
    assert client.delete(api_url("providers", provider)).status_code == 401
    assert Provider.objects.filter(pk=provider.pk, name=provider.name).exists()


# --- Schema and browsable API ---------------------------------------------------------------------


def test_schema_documents_the_actions_api(viewer):
    response = client_for(viewer).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path in (
        "/api/v1/providers/",
        "/api/v1/providers/{id}/",
        "/api/v1/providers/{id}/test/",
        "/api/v1/providers/{id}/fetch-host-key/",
        "/api/v1/providers/{id}/pin-host-key/",
        "/api/v1/provider-groups/{id}/",
        "/api/v1/actions/{id}/run/",
        "/api/v1/action-runs/",
        "/api/v1/action-runs/{id}/approve/",
        "/api/v1/action-runs/{id}/reject/",
        "/api/v1/action-runs/{id}/cancel/",
    ):
        assert path in paths, path
    for path, method in [
        ("/api/v1/providers/{id}/test/", "post"),
        ("/api/v1/providers/{id}/fetch-host-key/", "post"),
        ("/api/v1/providers/{id}/pin-host-key/", "post"),
        ("/api/v1/actions/{id}/run/", "post"),
        ("/api/v1/action-runs/{id}/approve/", "post"),
        ("/api/v1/action-runs/{id}/reject/", "post"),
        ("/api/v1/action-runs/{id}/cancel/", "post"),
    ]:
        assert paths[path][method]["summary"], path
    assert "409" in paths["/api/v1/action-runs/{id}/approve/"]["post"]["responses"]
    assert "502" in paths["/api/v1/providers/{id}/fetch-host-key/"]["post"]["responses"]
    assert "409" in paths["/api/v1/providers/{id}/"]["delete"]["responses"]
    run = paths["/api/v1/actions/{id}/run/"]["post"]
    assert run["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "RunRequestInputRequest"
    )
    assert "201" in run["responses"]
    # Secrets are write-only: in the request components, never in a response component.
    components = schema["components"]["schemas"]
    assert {"private_key", "passphrase", "password"} <= set(
        components["ProviderCreateInputRequest"]["properties"]
    )
    assert not {"private_key", "passphrase", "password"} & set(components["Provider"]["properties"])
    assert "put" not in paths["/api/v1/actions/{id}/"]
    assert "delete" not in paths["/api/v1/actions/{id}/"]


def test_schema_validates_without_warnings(tmp_path):
    from django.core.management import call_command

    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    assert "/api/v1/actions/{id}/run/" in target.read_text()


@pytest.mark.parametrize(
    "path",
    [
        "providers/",
        "providers/{provider}/",
        "provider-groups/",
        "actions/",
        "actions/{action}/",
        "action-runs/",
    ],
)
@pytest.mark.parametrize("who", ["viewer", "catalog_admin"])
def test_browsable_api_renders(client, request, provider_factory, runnable_action, path, who):
    provider = provider_factory()
    action = runnable_action()
    client.force_login(request.getfixturevalue(who))

    response = client.get(
        "/api/v1/" + path.format(provider=provider.pk, action=action.pk), HTTP_ACCEPT="text/html"
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
