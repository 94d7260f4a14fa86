"""The actions admin catalog: providers (write-only secrets, test connection, host key pinning),
provider groups, and actions with their steps saved through action_save."""

import re

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.urls import reverse

from actions import runners
from actions.admin import catalog as catalog_admin_module
from actions.admin import providers as providers_admin
from actions.choices import AuthMethod, ProviderKind, RunStatus, TargetKind
from actions.models import Action, ActionStep, Provider, ProviderGroup
from actions.runners.base import RunnerError
from actions.runners.hostkeys import host_key_fingerprint
from actions.services import action_save
from common.actor import Actor
from tests.admin_support import change_url, changelist, flashed, form_data

GROUPS = ("viewer", "responder", "approver", "catalog_admin", "admin_user")
PRIVATE_KEY_MARK = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ"  # In every OpenSSH private key.


# --- Helpers ---------------------------------------------------------------------------------------


def new_keypair() -> tuple[str, str]:
    """(OpenSSH private key, "ssh-ed25519 <base64>" public key)."""
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private, public.decode()


@pytest.fixture
def secret_provider(db) -> Provider:
    """An SSH host with every secret stored (written directly: the secrets are what matters)."""
    private_key, _ = new_keypair()
    return Provider.objects.create(
        name="db-1",
        kind=ProviderKind.SSH,
        address="10.0.0.5",
        username="ops",
        auth_method=AuthMethod.PASSWORD,
        private_key=private_key,
        passphrase="pass-phrase-SECRET-2",
        password="pass-word-SECRET-3",
    )


def assert_no_secrets(html: str, provider: Provider) -> None:
    for secret in ("pass-phrase-SECRET-2", "pass-word-SECRET-3", PRIVATE_KEY_MARK):
        assert secret not in html
    assert provider.private_key.splitlines()[1] not in html


# --- Pages render for every group ------------------------------------------------------------------


@pytest.mark.parametrize("who", GROUPS)
def test_catalog_pages_render_for_every_group(
    client, request, who, secret_provider, provider_group_factory, runnable_action, action_run_factory
):
    user = request.getfixturevalue(who)
    group = provider_group_factory(providers=[secret_provider])
    action = runnable_action(name="Restart nginx")
    action_run_factory(action=action, finished=True)
    client.force_login(user)

    for url in (
        changelist(Provider),
        change_url(secret_provider),
        changelist(ProviderGroup),
        change_url(group),
        changelist(Action),
        change_url(action),
    ):
        response = client.get(url)
        assert response.status_code == 200, (who, url)

    may_manage = who in ("catalog_admin", "admin_user")
    templates = client.get(reverse("admin:actions_action_templates"))
    assert templates.status_code == (200 if may_manage else 403)
    add = client.get(reverse("admin:actions_action_add"))
    assert add.status_code == (200 if may_manage else 403)
    html = client.get(change_url(action)).content.decode()
    assert ('name="_save"' in html) == may_manage
    may_run = who != "viewer"
    assert ('id="action-run-link"' in html) == may_run


# --- Providers: secrets are write-only -------------------------------------------------------------


def test_secrets_never_appear_in_any_provider_page(client, admin_user, secret_provider, monkeypatch):
    _, public = new_keypair()
    monkeypatch.setattr(runners, "connection_test", lambda p: (True, 3.0, ""), raising=False)
    monkeypatch.setattr(
        runners, "host_key_fetch", lambda p: (public, host_key_fingerprint(public)), raising=False
    )
    client.force_login(admin_user)

    test_url = reverse("admin:actions_provider_test_connection", args=[secret_provider.pk])
    pages = [
        client.get(changelist(Provider)),
        client.get(changelist(Provider), {"q": "db"}),
        client.get(change_url(secret_provider)),
        client.get(reverse("admin:actions_provider_history", args=[secret_provider.pk])),
        client.get(reverse("admin:actions_provider_delete", args=[secret_provider.pk])),
        client.post(test_url, follow=True),
        client.post(reverse("admin:actions_provider_host_key_fetch", args=[secret_provider.pk])),
    ]
    page = client.get(change_url(secret_provider))
    pages.append(client.post(change_url(secret_provider), form_data(page, name="")))  # With errors.

    for response in pages:
        assert response.status_code == 200
        assert_no_secrets(response.content.decode(), secret_provider)


def test_provider_page_says_which_secrets_are_set(client, admin_user, secret_provider):
    secret_provider.passphrase = ""
    secret_provider.save()
    client.force_login(admin_user)

    form = client.get(change_url(secret_provider)).context["adminform"].form

    assert form.fields["new_private_key"].help_text.startswith("Set (stored encrypted)")
    assert form.fields["new_password"].help_text.startswith("Set (stored encrypted)")
    assert form.fields["new_passphrase"].help_text == "Not set."
    assert all(form[f].value() in (None, "") for f in ("new_private_key", "new_passphrase", "new_password"))


def test_blank_secret_inputs_keep_what_is_stored(client, admin_user, secret_provider):
    client.force_login(admin_user)
    page = client.get(change_url(secret_provider))

    response = client.post(change_url(secret_provider), form_data(page, username="deploy"))

    assert response.status_code == 302
    stored = Provider.objects.get(pk=secret_provider.pk)
    assert stored.username == "deploy"
    assert stored.private_key == secret_provider.private_key
    assert stored.passphrase == "pass-phrase-SECRET-2"
    assert stored.password == "pass-word-SECRET-3"


def test_new_secret_replaces_and_clear_clears(client, admin_user, secret_provider):
    private_key, _ = new_keypair()
    client.force_login(admin_user)
    page = client.get(change_url(secret_provider))

    response = client.post(
        change_url(secret_provider),
        form_data(
            page,
            auth_method=AuthMethod.KEY,
            new_private_key=private_key,
            clear_passphrase="on",
            clear_password="on",
        ),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    stored = Provider.objects.get(pk=secret_provider.pk)
    assert stored.private_key.strip() == private_key.strip()
    assert (stored.passphrase, stored.password, stored.auth_method) == ("", "", AuthMethod.KEY)
    assert_no_secrets(client.get(change_url(stored)).content.decode(), stored)


def test_service_refusal_shows_on_the_form_and_changes_nothing(client, admin_user, secret_provider):
    """Clearing the password a password-authenticated host needs: provider_save refuses."""
    client.force_login(admin_user)
    page = client.get(change_url(secret_provider))

    response = client.post(change_url(secret_provider), form_data(page, username="x", clear_password="on"))

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["new_password"] == ["Password authentication needs a password."]
    stored = Provider.objects.get(pk=secret_provider.pk)
    assert (stored.username, stored.password) == ("ops", "pass-word-SECRET-3")
    assert_no_secrets(response.content.decode(), secret_provider)


def test_new_and_clear_together_is_an_error(client, admin_user, secret_provider):
    client.force_login(admin_user)
    page = client.get(change_url(secret_provider))

    response = client.post(
        change_url(secret_provider), form_data(page, new_password="other", clear_password="on")
    )

    assert response.status_code == 200
    assert "not both" in response.context["adminform"].form.errors["new_password"][0]
    assert Provider.objects.get(pk=secret_provider.pk).password == "pass-word-SECRET-3"


def test_add_ssh_provider_through_the_form(client, admin_user):
    private_key, _ = new_keypair()
    client.force_login(admin_user)
    page = client.get(reverse("admin:actions_provider_add"))

    response = client.post(
        reverse("admin:actions_provider_add"),
        form_data(
            page,
            name="web-1",
            kind=ProviderKind.SSH,
            address="10.1.0.1",
            username="ops",
            auth_method=AuthMethod.KEY,
            new_private_key=private_key,
            tags="web, eu-west, web",
        ),
    )

    assert response.status_code == 302
    provider = Provider.objects.get(name="web-1")
    assert provider.tags == ["eu-west", "web"]
    assert provider.private_key.strip() == private_key.strip()
    html = client.get(changelist(Provider)).content.decode()
    assert "ops@10.1.0.1:22" in html
    assert "eu-west, web" in html


def test_local_provider_is_refused_while_local_providers_are_off(client, admin_user, settings):
    settings.ALLOW_LOCAL_PROVIDER = False
    client.force_login(admin_user)
    page = client.get(reverse("admin:actions_provider_add"))

    response = client.post(reverse("admin:actions_provider_add"), form_data(page, name="me", kind="local"))

    assert response.status_code == 200
    assert "ALLOW_LOCAL_PROVIDER is off" in response.context["adminform"].form.errors["kind"][0]
    assert not Provider.objects.exists()


def test_provider_delete_in_use_is_refused_with_a_message(client, admin_user, runnable_action):
    action = runnable_action(name="Restart nginx")
    provider = action.steps.get().provider
    ProviderGroup.objects.create(name="all").providers.add(provider)
    client.force_login(admin_user)

    response = client.post(reverse("admin:actions_provider_delete", args=[provider.pk]), {"post": "yes"})

    # Django itself refuses: a step protects its provider.
    assert response.status_code == 200
    assert "protected related objects" in response.content.decode()
    assert Provider.objects.filter(pk=provider.pk).exists()

    unused = Provider.objects.create(name="spare", kind=ProviderKind.LOCAL)
    ProviderGroup.objects.get(name="all").providers.add(unused)
    response = client.post(reverse("admin:actions_provider_delete", args=[unused.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert "still used by group all" in flashed(response)[0]
    assert Provider.objects.filter(pk=unused.pk).exists()


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


# --- Provider groups -------------------------------------------------------------------------------


def test_provider_group_is_saved_through_the_service(client, admin_user, provider_factory, monkeypatch):
    one, two = provider_factory(name="web-1"), provider_factory(name="web-2")
    calls = []
    real = providers_admin.provider_group_save
    monkeypatch.setattr(providers_admin, "provider_group_save", lambda **kw: calls.append(kw) or real(**kw))
    client.force_login(admin_user)
    page = client.get(reverse("admin:actions_providergroup_add"))

    response = client.post(
        reverse("admin:actions_providergroup_add"),
        form_data(page, name="web", providers=[one.pk, two.pk], tag_selector="web, eu", max_parallel=5),
    )

    assert response.status_code == 302
    group = ProviderGroup.objects.get(name="web")
    assert set(group.providers.all()) == {one, two}
    assert (group.tag_selector, group.max_parallel) == (["eu", "web"], 5)
    assert len(calls) == 1
    html = client.get(changelist(ProviderGroup)).content.decode()
    assert "web-1, web-2" in html


# --- Actions and their steps -----------------------------------------------------------------------


def step_prefix(response) -> str:
    return next(i.formset.prefix for i in response.context["inline_admin_formsets"])


@pytest.fixture
def save_spy(monkeypatch):
    calls = []

    def spy(**kwargs):
        calls.append(kwargs)
        return action_save(**kwargs)

    monkeypatch.setattr(catalog_admin_module, "action_save", spy)
    return calls


def test_add_action_with_steps_goes_through_action_save(client, admin_user, provider_factory, save_spy):
    provider = provider_factory(name="web-1")
    client.force_login(admin_user)
    page = client.get(reverse("admin:actions_action_add"))
    p = step_prefix(page)

    response = client.post(
        reverse("admin:actions_action_add"),
        form_data(
            page,
            name="Restart nginx",
            category="restart",
            tags="nginx, web",
            estimated_duration="00:00:30",
            parameters='[{"name": "service", "required": true, "pattern": "^[a-z]+$"}]',
            **{
                f"{p}-0-name": "Restart",
                f"{p}-0-command": "systemctl restart {{ params.service }}",
                f"{p}-0-target_kind": TargetKind.PROVIDER,
                f"{p}-0-provider": provider.pk,
                f"{p}-0-retries": 2,
            },
        ),
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    action = Action.objects.get(name="Restart nginx")
    assert len(save_spy) == 1
    assert action.tags == ["nginx", "web"]
    assert action.parameters == [{"name": "service", "required": True, "pattern": "^[a-z]+$"}]
    [step] = action.steps.all()
    assert (step.name, step.provider, step.retries, step.order) == ("Restart", provider, 2, 10)


def test_bad_placeholder_is_a_step_error_and_saves_nothing(client, admin_user, provider_factory, save_spy):
    provider = provider_factory(name="web-1")
    client.force_login(admin_user)
    page = client.get(reverse("admin:actions_action_add"))
    p = step_prefix(page)

    response = client.post(
        reverse("admin:actions_action_add"),
        form_data(
            page,
            name="Broken",
            **{
                f"{p}-0-name": "Echo",
                f"{p}-0-command": "echo {{ params.nope }}",
                f"{p}-0-target_kind": TargetKind.PROVIDER,
                f"{p}-0-provider": provider.pk,
            },
        ),
    )

    assert response.status_code == 200
    [inline] = response.context["inline_admin_formsets"]
    assert inline.formset.forms[0].errors["command"] == [
        "{{ params.nope }}: no parameter named 'nope' is declared."
    ]
    assert "no parameter named" in response.content.decode()
    assert len(save_spy) == 1
    assert not Action.objects.exists() and not ActionStep.objects.exists()


@pytest.fixture
def two_step_action(provider_factory):
    provider = provider_factory(name="web-1")
    return action_save(
        by=Actor.system(),
        data={"name": "Check web", "parameters": [{"name": "url", "default": "http://localhost/"}]},
        steps=[
            {"name": "Status", "command": "uptime", "provider": provider},
            {"name": "Probe", "command": "curl -fsS {{ params.url }}", "provider": provider},
        ],
    )


def test_change_reorders_edits_and_deletes_steps_in_one_save(client, admin_user, two_step_action, save_spy):
    client.force_login(admin_user)
    page = client.get(change_url(two_step_action))
    p = step_prefix(page)

    response = client.post(
        change_url(two_step_action),
        form_data(
            page,
            description="Now with a new first step",
            **{
                f"{p}-0-DELETE": "on",  # Status goes.
                f"{p}-1-order": "20",
                f"{p}-1-command": "curl -fsSI {{ params.url }}",
                f"{p}-TOTAL_FORMS": "3",
                f"{p}-2-order": "5",
                f"{p}-2-name": "Load",
                f"{p}-2-command": "cat /proc/loadavg",
                f"{p}-2-target_kind": TargetKind.PROVIDER,
                f"{p}-2-provider": two_step_action.steps.first().provider_id,
                f"{p}-2-timeout_seconds": "10",
                f"{p}-2-retries": "0",
                f"{p}-2-retry_delay_seconds": "5",
                f"{p}-2-condition": "always",
                f"{p}-2-failure_policy": "all",
            },
        ),
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    assert len(save_spy) == 1
    steps = list(Action.objects.get(pk=two_step_action.pk).steps.values_list("name", "command"))
    assert steps == [("Load", "cat /proc/loadavg"), ("Probe", "curl -fsSI {{ params.url }}")]


def test_change_refused_by_action_save_keeps_everything(client, admin_user, two_step_action, save_spy):
    """Dropping the parameter a step uses: the step's error shows, nothing is written."""
    before = list(ActionStep.objects.order_by("id").values())
    client.force_login(admin_user)
    page = client.get(change_url(two_step_action))
    p = step_prefix(page)

    response = client.post(change_url(two_step_action), form_data(page, name="Renamed", parameters="[]"))

    assert response.status_code == 200
    forms = response.context["inline_admin_formsets"][0].formset.forms
    assert forms[1].errors["command"] == ["{{ params.url }}: no parameter named 'url' is declared."]
    assert not forms[0].errors
    assert p
    assert Action.objects.get(pk=two_step_action.pk).name == "Check web"
    assert list(ActionStep.objects.order_by("id").values()) == before


def test_invalid_parameter_declarations_are_a_field_error(client, admin_user, two_step_action):
    client.force_login(admin_user)
    page = client.get(change_url(two_step_action))

    response = client.post(change_url(two_step_action), form_data(page, parameters='[{"name": "bad name"}]'))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["parameters"]
    assert errors == ["Parameter 1: name must be letters, digits and underscores."]

    response = client.post(change_url(two_step_action), form_data(page, parameters="[{not json"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["parameters"]


def test_an_action_needs_a_step(client, admin_user, two_step_action):
    client.force_login(admin_user)
    page = client.get(change_url(two_step_action))
    p = step_prefix(page)

    response = client.post(
        change_url(two_step_action), form_data(page, **{f"{p}-0-DELETE": "on", f"{p}-1-DELETE": "on"})
    )

    assert response.status_code == 200
    assert "An action needs at least one step." in response.content.decode()
    assert Action.objects.get(pk=two_step_action.pk).steps.count() == 2


def test_action_list_shows_usage_statistics(client, admin_user, runnable_action, action_run_factory):
    action = runnable_action(name="Restart nginx")
    for status in (RunStatus.SUCCEEDED, RunStatus.SUCCEEDED, RunStatus.SUCCEEDED, RunStatus.FAILED):
        action_run_factory(action=action, finished=True, status=status)
    action_run_factory(action=action)  # Pending: counted as a run, not in the rate.
    runnable_action(name="Never run")
    client.force_login(admin_user)

    response = client.get(changelist(Action))

    html = response.content.decode()
    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*Restart nginx(?:(?!</tr>).)*</tr>", html, re.S).group(0)
    assert ">5</a>" in row
    assert "75 %" in row
    assert "1 min" in row
    never = re.search(r"<tr[^>]*>(?:(?!</tr>).)*Never run(?:(?!</tr>).)*</tr>", html, re.S).group(0)
    assert 'class="field-success_rate">-<' in never
    assert 'class="field-runs">0<' in never


def test_action_changelist_query_count_is_constant(
    client, admin_user, runnable_action, action_run_factory, django_assert_num_queries
):
    def make(n):
        for _ in range(n):
            action = runnable_action()
            action_run_factory(action=action, finished=True)
            action_run_factory(action=action, finished=True, status=RunStatus.FAILED)

    client.force_login(admin_user)
    client.get(changelist(Action))  # Warm up the session and content-type caches.
    make(1)
    # Session, user, page count, the page with its statistics.
    with django_assert_num_queries(4):
        response = client.get(changelist(Action))
    assert len(response.context["cl"].result_list) == 1

    make(29)
    with django_assert_num_queries(4):
        response = client.get(changelist(Action))
    assert len(response.context["cl"].result_list) == 30


def test_provider_changelist_query_count_is_constant(
    client, admin_user, provider_factory, django_assert_num_queries
):
    client.force_login(admin_user)
    client.get(changelist(Provider))
    provider_factory()
    with django_assert_num_queries(4):
        client.get(changelist(Provider))
    for _ in range(29):
        provider_factory(ssh=True)
    with django_assert_num_queries(4):
        response = client.get(changelist(Provider))
    assert len(response.context["cl"].result_list) == 30
