"""factory_boy factories for the actions app, for read-side tests and fixtures. They write rows
directly; tests of behaviour go through actions.services, as production does.

Providers are `local` by default so nothing needs SSH; ProviderFactory(ssh=True) gives an SSH host
with password authentication (no key to generate, nothing reachable)."""

from datetime import timedelta

import factory
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.utils import timezone

from actions.choices import AuthMethod, ProviderKind, RunStatus, StepStatus, TargetKind
from actions.models import Action, ActionRun, ActionStep, Provider, ProviderGroup, StepRun
from actions.services.snapshot import run_snapshot_build


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider

    name = factory.Sequence(lambda n: f"provider-{n}")
    kind = ProviderKind.LOCAL

    class Params:
        ssh = factory.Trait(
            kind=ProviderKind.SSH,
            address=factory.Sequence(lambda n: f"10.0.{n // 250}.{n % 250 + 1}"),
            username="ops",
            auth_method=AuthMethod.PASSWORD,
            password="factory-password",
        )


class ProviderGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProviderGroup
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"group-{n}")

    @factory.post_generation
    def providers(self, create, extracted, **kwargs):
        """ProviderGroupFactory(providers=[a, b]) lists those providers."""
        if create and extracted:
            self.providers.set(extracted)


class ActionFactory(factory.django.DjangoModelFactory):
    """An action without steps; add them with ActionStepFactory(action=...)."""

    class Meta:
        model = Action
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Action {n}")

    @factory.post_generation
    def services(self, create, extracted, **kwargs):
        if create and extracted:
            self.services.set(extracted)


class ActionStepFactory(factory.django.DjangoModelFactory):
    """A step of a (new) action on a (new) local provider."""

    class Meta:
        model = ActionStep

    action = factory.SubFactory(ActionFactory)
    order = factory.Sequence(lambda n: (n + 1) * 10)
    name = factory.Sequence(lambda n: f"Step {n}")
    target_kind = TargetKind.PROVIDER
    provider = factory.SubFactory(ProviderFactory)
    command = "echo ok"


class ActionRunFactory(factory.django.DjangoModelFactory):
    """A run written in the given status (pending by default); `finished=True` makes it one that
    ran for a minute and succeeded unless a status is given."""

    class Meta:
        model = ActionRun

    action = factory.SubFactory(ActionFactory)
    status = RunStatus.PENDING
    # As a request would have fixed it from the action's steps at the time.
    snapshot = factory.LazyAttribute(
        lambda run: run_snapshot_build(action=run.action, parameters={}, incident=None, approval_reasons=[])
    )

    class Params:
        finished = factory.Trait(
            status=RunStatus.SUCCEEDED,
            started_at=factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=1)),
            finished_at=factory.LazyFunction(timezone.now),
        )


class StepRunFactory(factory.django.DjangoModelFactory):
    """A step that ran on a (new) local provider and succeeded."""

    class Meta:
        model = StepRun

    run = factory.SubFactory(ActionRunFactory)
    step_order = 10
    step_name = factory.Sequence(lambda n: f"Step {n}")
    provider = factory.SubFactory(ProviderFactory)
    host = factory.SelfAttribute("provider.name")
    command = "echo ok"
    status = StepStatus.SUCCEEDED
    attempts = 1
    exit_code = 0
    stdout = "ok\n"
    started_at = factory.LazyFunction(lambda: timezone.now() - timedelta(seconds=2))
    finished_at = factory.LazyFunction(timezone.now)


def new_keypair() -> tuple[str, str]:
    """(OpenSSH private key, "ssh-ed25519 <base64>" public key)."""
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private, public.decode()
