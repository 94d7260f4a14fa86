"""The actions admin catalog: providers (write-only secrets, test connection, host key pinning),
provider groups, and actions with their steps saved through action_save."""

import pytest
from django.urls import reverse

from actions import runners
from actions.admin import providers as providers_admin
from actions.choices import AuthMethod, ProviderKind
from actions.models import Action, Provider, ProviderGroup
from actions.runners.hostkeys import host_key_fingerprint
from tests.actions.factories import new_keypair
from tests.admin_support import change_url, changelist, flashed, form_data

GROUPS = ("viewer", "responder", "approver", "catalog_admin", "admin_user")
PRIVATE_KEY_MARK = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ"  # In every OpenSSH private key.


# --- Helpers ---------------------------------------------------------------------------------------


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
