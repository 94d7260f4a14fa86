from django.db import models

from actions.choices import AuthMethod, ProviderKind
from common.fields import EncryptedTextField
from common.models import BaseModel


class Provider(BaseModel):
    """Where commands run: an SSH host with pinned host key and encrypted credentials, or the
    worker's own machine (`local`, only when ALLOW_LOCAL_PROVIDER is on)."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=ProviderKind.choices, default=ProviderKind.SSH)
    address = models.CharField(max_length=255, blank=True, help_text="Host name or IP address.")
    port = models.PositiveIntegerField(default=22)
    username = models.CharField(max_length=100, blank=True)
    auth_method = models.CharField(max_length=10, choices=AuthMethod.choices, default=AuthMethod.KEY)
    private_key = EncryptedTextField(blank=True)
    passphrase = EncryptedTextField(blank=True)
    password = EncryptedTextField(blank=True)
    use_sudo = models.BooleanField(default=False, help_text="Run commands with `sudo -n`.")
    connect_timeout = models.PositiveIntegerField(default=10, help_text="Seconds.")
    host_key = models.TextField(
        blank=True,
        help_text="The host's public key as `type base64`, pinned by 'fetch and pin host key'.",
    )
    tags = models.JSONField(default=list, blank=True)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["address"], name="actions_provider_address")]

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        if self.kind == ProviderKind.LOCAL:
            return f"{self.name} (local)"
        return f"{self.name} ({self.username}@{self.address}:{self.port})"


class ProviderGroup(BaseModel):
    """Several hosts a step runs on in parallel: listed providers plus those carrying every tag of
    the selector."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    providers = models.ManyToManyField(Provider, related_name="provider_groups", blank=True)
    tag_selector = models.JSONField(
        default=list, blank=True, help_text="Providers carrying all of these tags belong to the group."
    )
    max_parallel = models.PositiveIntegerField(default=10, help_text="Hosts worked at once.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
