import itertools

import pytest
from django.contrib.auth.models import User

from actions.choices import AuthMethod, ProviderKind
from actions.models import Action, Provider
from actions.runners import SSHRunner, runner_for
from tests.actions.api_support import client_for
from tests.actions.factories import (
    ActionFactory,
    ActionRunFactory,
    ActionStepFactory,
    ProviderFactory,
    ProviderGroupFactory,
    StepRunFactory,
    new_keypair,
)
from tests.actions.run_support import request_run
from tests.actions.runner_support import RecordingSink
from tests.actions.sshd import SSHKeys, keygen, require_openssh, start_sshd

PASSPHRASE = "correct horse battery staple"
_names = itertools.count(1)


@pytest.fixture(scope="session")
def openssh() -> None:
    """Tests that run sshd or ssh-keygen: skipped when OpenSSH is not installed (failed on CI)."""
    require_openssh()


@pytest.fixture(scope="session")
def sshd_keys(openssh, tmp_path_factory) -> SSHKeys:
    """The host key and client keys every test sshd uses: the default Ed25519 client key, plus
    RSA (PEM), ECDSA and a passphrase-protected Ed25519 key, all authorized."""
    directory = tmp_path_factory.mktemp("ssh-keys")
    keys = SSHKeys.generate(directory)
    keys.authorize(keygen(directory / "client_rsa_pem", "rsa", pem=True))
    keys.authorize(keygen(directory / "client_ecdsa", "ecdsa"))
    keys.authorize(keygen(directory / "client_ed25519_pass", passphrase=PASSPHRASE))
    return keys


@pytest.fixture(scope="session")
def sshd_factory(tmp_path_factory, sshd_keys):
    """Starts more sshds (same keys unless given others); all stop at the end of the session."""
    servers = []

    def start(keys: SSHKeys | None = None, env: dict[str, str] | None = None):
        server = start_sshd(tmp_path_factory.mktemp("sshd"), keys or sshd_keys, env=env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def sshd(sshd_factory):
    return sshd_factory()


@pytest.fixture(scope="session")
def sudo_sshd(sshd_factory, tmp_path_factory):
    """An sshd whose sessions find a stand-in `sudo` first on PATH: it logs its arguments to
    sshd.sudo_log and runs the rest (the machine may have no real sudo, and we are root anyway)."""
    directory = tmp_path_factory.mktemp("fake-sudo")
    log = directory / "sudo.log"
    sudo = directory / "sudo"
    sudo.write_text(f'#!/bin/sh\necho "$*" >> {log}\n[ "$1" = -n ] && shift\nexec "$@"\n')
    sudo.chmod(0o755)
    server = sshd_factory(env={"PATH": f"{directory}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"})
    server.sudo_log = log
    return server


@pytest.fixture
def ssh_provider(db, sshd):
    """Makes a saved SSH provider for an sshd (default: the session one) and returns it as read
    back from the database, so the secrets went through encryption."""

    def make(server=None, **overrides) -> Provider:
        server = server or sshd
        fields = server.provider_fields(**overrides)
        provider = Provider.objects.create(name=f"ssh-{next(_names)}", kind=ProviderKind.SSH, **fields)
        return Provider.objects.get(pk=provider.pk)

    return make


@pytest.fixture
def local_provider(db, settings) -> Provider:
    settings.ALLOW_LOCAL_PROVIDER = True
    return Provider.objects.create(name=f"local-{next(_names)}", kind=ProviderKind.LOCAL)


@pytest.fixture
def local(db, settings) -> Provider:
    """The worker's own machine, named "here", for the executor tests (test_execution_*.py)."""
    settings.ALLOW_LOCAL_PROVIDER = True
    return Provider.objects.create(name="here", kind=ProviderKind.LOCAL)


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def runner(ssh_provider):
    """Makes SSH runners (for ssh_provider(**overrides), or a given provider) and closes them."""
    runners = []

    def make(provider=None, **overrides) -> SSHRunner:
        made = runner_for(provider or ssh_provider(**overrides))
        runners.append(made)
        return made

    yield make
    for made in runners:
        made.close()


# --- Factories and users for the actions tests (API and others) ------------------------------------
# Kept apart from the sshd fixtures above: plain rows written by tests/actions/factories.py, and the
# users of the built-in groups that the actions permissions are about.


@pytest.fixture
def provider_factory(db):
    return ProviderFactory


@pytest.fixture
def provider_group_factory(db):
    return ProviderGroupFactory


@pytest.fixture
def action_factory(db):
    return ActionFactory


@pytest.fixture
def action_step_factory(db):
    return ActionStepFactory


@pytest.fixture
def action_run_factory(db):
    return ActionRunFactory


@pytest.fixture
def step_run_factory(db):
    return StepRunFactory


@pytest.fixture
def runnable_action(db):
    """An enabled low-risk action with one step on a local provider: ready to be requested."""

    def make(**kwargs) -> Action:
        action = ActionFactory(**kwargs)
        ActionStepFactory(action=action, name="Check", command="echo ok")
        return action

    return make


@pytest.fixture
def approver(user_factory) -> User:
    return user_factory(username="approver", groups=["Approver"])


@pytest.fixture
def catalog_admin(user_factory) -> User:
    """A member of the Admin group (not a superuser): manages providers, groups and actions."""
    return user_factory(username="catalog-admin", groups=["Admin"])


@pytest.fixture
def api(catalog_admin):
    """An API client logged in as the catalog admin."""
    return client_for(catalog_admin)


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


@pytest.fixture
def health_check(runnable_action):
    action = runnable_action(
        name="Health check",
        parameters=[
            {"name": "endpoint", "description": "Port or URL", "default": "22", "pattern": "^[0-9]+$"},
            {"name": "service", "description": "A unit", "required": True},
        ],
    )
    step = action.steps.get()
    step.command = "echo {{ params.endpoint }} {{ params.service }}"
    step.save()
    return action


@pytest.fixture
def awaiting(health_check, responder):
    return request_run(health_check, responder, require_approval=True)
