"""Provider and provider group forms: write-only secrets, and the host key pinned by confirmation."""

from typing import Any

from django import forms
from django.core import signing

from actions.forms.fields import MONOSPACE, TagsField
from actions.models import Provider, ProviderGroup
from common.forms import ServiceErrorsMixin

SECRET_INPUTS = {"private_key": "new_private_key", "passphrase": "new_passphrase", "password": "new_password"}
SECRET_LABELS = {"private_key": "private key", "passphrase": "key passphrase", "password": "password"}


class WriteOnlyTextarea(forms.Textarea):
    """A textarea that never renders a value: what is stored stays on the server."""

    def format_value(self, value: Any) -> None:
        return None


def _secret_input(label: str, *, textarea: bool = False) -> forms.CharField:
    if textarea:
        widget: forms.Widget = WriteOnlyTextarea(
            attrs={"rows": 5, "cols": 70, "autocomplete": "off", "spellcheck": "false", "class": MONOSPACE}
        )
    else:
        widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
    return forms.CharField(label=label, required=False, strip=False, widget=widget)


class ProviderAdminForm(ServiceErrorsMixin, forms.ModelForm):
    """Secrets are write-only: the inputs start empty whatever is stored; blank keeps the stored
    value, a new value replaces it, and the "clear" box removes it."""

    new_private_key = _secret_input("Private key", textarea=True)
    clear_private_key = forms.BooleanField(label="Clear the stored private key", required=False)
    new_passphrase = _secret_input("Key passphrase")
    clear_passphrase = forms.BooleanField(label="Clear the stored passphrase", required=False)
    new_password = _secret_input("Password")
    clear_password = forms.BooleanField(label="Clear the stored password", required=False)
    tags = TagsField()

    class Meta:
        model = Provider
        fields = (
            "name",
            "kind",
            "enabled",
            "tags",
            "address",
            "port",
            "username",
            "connect_timeout",
            "use_sudo",
            "auth_method",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stored = self.instance
        for secret, field_name in SECRET_INPUTS.items():
            field = self.fields.get(field_name)
            if field is None:
                continue
            if getattr(stored, secret, ""):
                field.help_text = (
                    f"Set (stored encrypted). Leave blank to keep it, or type a new {SECRET_LABELS[secret]}."
                )
            else:
                field.help_text = "Not set."
        if "new_private_key" in self.fields:
            self.fields["new_private_key"].help_text += " OpenSSH or PEM; Ed25519, ECDSA or RSA."

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for secret, field_name in SECRET_INPUTS.items():
            if cleaned.get(field_name) and cleaned.get(f"clear_{secret}"):
                self.add_error(field_name, f"Type a new {SECRET_LABELS[secret]} or clear it, not both.")
        return cleaned

    def secret_changes(self) -> dict[str, str]:
        """The secrets to change, for provider_save: a new value, or "" to clear one."""
        changes = {}
        for secret, field_name in SECRET_INPUTS.items():
            value = self.cleaned_data.get(field_name) or ""
            if secret == "private_key" and value.strip():
                value = value.strip() + "\n"
            if value.strip():
                changes[secret] = value
            elif self.cleaned_data.get(f"clear_{secret}"):
                changes[secret] = ""
        return changes


class ProviderGroupAdminForm(ServiceErrorsMixin, forms.ModelForm):
    tag_selector = TagsField(
        label="Tag selector",
        help_text="Providers carrying every one of these tags belong to the group too. Comma-separated.",
    )

    class Meta:
        model = ProviderGroup
        fields = ("name", "description", "providers", "tag_selector", "max_parallel")


class HostKeyPinForm(forms.Form):
    """The fetched key travels through the confirmation page signed, so what is pinned is exactly
    what was fetched and shown."""

    SALT = "actions.provider.host_key"
    MAX_AGE_SECONDS = 600

    token = forms.CharField(widget=forms.HiddenInput)

    @classmethod
    def sign(cls, provider: Provider, host_key: str) -> str:
        return signing.dumps({"provider": provider.pk, "host_key": host_key}, salt=cls.SALT)

    def host_key_for(self, provider: Provider) -> str | None:
        try:
            data = signing.loads(self.cleaned_data["token"], salt=self.SALT, max_age=self.MAX_AGE_SECONDS)
        except signing.BadSignature:
            return None
        if data.get("provider") != provider.pk:
            return None
        return data.get("host_key")
