"""Providers (hosts) and provider groups.

Provider secrets (private key, passphrase, password) are write-only: no output serializer has a
field that could carry them, only `<secret>_set` booleans annotated by the selector's queryset."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from actions.api.serializers.fields import tags_field
from actions.choices import AuthMethod, ProviderKind
from actions.models import Provider, ProviderGroup
from actions.runners.hostkeys import host_key_fingerprint
from common.api.serializers import StrictSerializer

# --- Output -----------------------------------------------------------------------------------


class ProviderSerializer(serializers.ModelSerializer):
    """A provider as shown: never its secrets, only whether each is set. Rows come from the view's
    queryset, which annotates the `*_set` flags without reading the secrets."""

    private_key_set = serializers.BooleanField(read_only=True)
    passphrase_set = serializers.BooleanField(read_only=True)
    password_set = serializers.BooleanField(read_only=True)
    host_key_fingerprint = serializers.SerializerMethodField()

    class Meta:
        model = Provider
        fields = [
            "id",
            "name",
            "kind",
            "address",
            "port",
            "username",
            "auth_method",
            "private_key_set",
            "passphrase_set",
            "password_set",
            "use_sudo",
            "connect_timeout",
            "host_key",
            "host_key_fingerprint",
            "tags",
            "enabled",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True, help_text='"SHA256:...", as ssh-keygen -l.'))
    def get_host_key_fingerprint(self, provider: Provider) -> str | None:
        if not provider.host_key:
            return None
        try:
            return host_key_fingerprint(provider.host_key)
        except ValueError:
            return None


class ProviderGroupSerializer(serializers.ModelSerializer):
    providers = serializers.PrimaryKeyRelatedField(many=True, read_only=True, help_text="Provider ids.")

    class Meta:
        model = ProviderGroup
        fields = [
            "id",
            "name",
            "description",
            "providers",
            "tag_selector",
            "max_parallel",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ConnectionTestSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    latency_ms = serializers.FloatField(allow_null=True, help_text="Time to connect and authenticate.")
    error = serializers.CharField(allow_blank=True, help_text="Why it failed; empty when ok.")


class HostKeySerializer(serializers.Serializer):
    host_key = serializers.CharField(help_text='"<type> <base64>", as stored on the provider.')
    fingerprint = serializers.CharField(help_text='"SHA256:...", the form ssh-keygen -l prints.')


# --- Input ------------------------------------------------------------------------------------


def _secret_field(**kwargs) -> serializers.CharField:
    # Never trimmed (a password may end in a space) and never rendered back.
    return serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        style={"input_type": "password"},
        **kwargs,
    )


class ProviderUpdateInput(StrictSerializer):
    """A partial edit: the fields sent, and only those, go to provider_save. A secret left out is
    kept; an empty string clears it. Host keys are set through fetch-host-key and pin-host-key."""

    name = serializers.CharField(max_length=100, required=False)
    kind = serializers.ChoiceField(choices=ProviderKind.choices, required=False)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    port = serializers.IntegerField(min_value=1, max_value=65535, required=False)
    username = serializers.CharField(max_length=100, required=False, allow_blank=True)
    auth_method = serializers.ChoiceField(choices=AuthMethod.choices, required=False)
    private_key = _secret_field(help_text="OpenSSH or PEM private key. Write-only.")
    passphrase = _secret_field(help_text="Passphrase of the private key. Write-only.")
    password = _secret_field(help_text="Write-only.")
    use_sudo = serializers.BooleanField(required=False)
    connect_timeout = serializers.IntegerField(min_value=1, max_value=300, required=False)
    tags = tags_field(required=False)
    enabled = serializers.BooleanField(required=False)


class ProviderCreateInput(ProviderUpdateInput):
    name = serializers.CharField(max_length=100)


class HostKeyPinInput(StrictSerializer):
    host_key = serializers.CharField(help_text='The key fetch-host-key returned: "<type> <base64>".')
    fingerprint = serializers.CharField(
        help_text="The fingerprint the user confirmed; it must match the key, or nothing is pinned."
    )


class ProviderGroupUpdateInput(StrictSerializer):
    name = serializers.CharField(max_length=100, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    providers = serializers.PrimaryKeyRelatedField(
        queryset=Provider.objects.all(),
        many=True,
        required=False,
        help_text="Provider ids; replaces the list.",
    )
    tag_selector = tags_field(
        required=False, help_text="Providers carrying all of these tags belong to the group too."
    )
    max_parallel = serializers.IntegerField(min_value=1, required=False)


class ProviderGroupCreateInput(ProviderGroupUpdateInput):
    name = serializers.CharField(max_length=100)
