"""Input serializers check the shape of requests; output serializers render rows. The rules live in
notifications.services, which the views call with the validated data. A channel's secret is
write-only: it is taken as input and never rendered (`secret_set` says whether one is stored)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework import serializers

from common.api.fields import MAX_ID, parse_id
from common.api.serializers import StrictSerializer
from incidents.models import Incident, Priority, Service
from notifications.choices import RULE_KIND_CHOICES, ChannelKind, ContactKind, RecipientRole
from notifications.models import Channel, ContactMethod, Delivery, MessageTemplate, NotificationRule

User = get_user_model()


class IdField(serializers.PrimaryKeyRelatedField):
    """A row by id; a number no primary key can hold names no row (never a database overflow)."""

    def to_internal_value(self, data):
        number = data if isinstance(data, int) and not isinstance(data, bool) else parse_id(data)
        if number is None or not 0 <= number <= MAX_ID:
            if isinstance(data, int | str) and not isinstance(data, bool):
                self.fail("does_not_exist", pk_value=data)
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(number)


# --- Output -----------------------------------------------------------------------------------


class ChannelSerializer(serializers.ModelSerializer):
    secret_set = serializers.SerializerMethodField(help_text="Whether a secret is stored (never shown).")

    class Meta:
        model = Channel
        fields = [
            "id",
            "name",
            "kind",
            "config",
            "enabled",
            "disabled_reason",
            "permanent_failures",
            "paused_until",
            "secret_set",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_secret_set(self, obj: Channel) -> bool:
        return bool(obj.secret)


class RuleSerializer(serializers.ModelSerializer):
    priorities = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    services = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    channels = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    users = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    groups = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    event_kinds = serializers.ListField(child=serializers.ChoiceField(choices=RULE_KIND_CHOICES))
    roles = serializers.ListField(child=serializers.ChoiceField(choices=RecipientRole.choices))
    contact_kinds = serializers.ListField(child=serializers.ChoiceField(choices=ContactKind.choices))
    teams = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = NotificationRule
        fields = [
            "id",
            "name",
            "position",
            "enabled",
            "event_kinds",
            "priorities",
            "services",
            "teams",
            "channels",
            "users",
            "groups",
            "roles",
            "contact_kinds",
            "stop",
            "bundle_seconds",
            "create_incident_channel",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class MessageTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = MessageTemplate
        fields = ["id", "event_kind", "audience", "subject", "body", "created_at", "updated_at"]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    channel = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    user = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    incident = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    rule = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    bundled_into = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    target = serializers.CharField(source="target_label", read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "event_kind",
            "event_key",
            "incident",
            "rule",
            "channel",
            "user",
            "contact_kind",
            "address",
            "target",
            "audience",
            "status",
            "attempts",
            "next_attempt_at",
            "sent_at",
            "provider_message_id",
            "error",
            "subject",
            "payload",
            "bundled_into",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ContactMethodSerializer(serializers.ModelSerializer):
    user = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = ContactMethod
        fields = [
            "id",
            "user",
            "kind",
            "address",
            "enabled",
            "page_delay_minutes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PreviewSerializer(serializers.Serializer):
    subject = serializers.CharField()
    text = serializers.CharField()
    url = serializers.CharField()


# --- Input ------------------------------------------------------------------------------------


class ChannelCreateInput(StrictSerializer):
    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=ChannelKind.choices)
    config = serializers.DictField(required=False, help_text="Settings that are not secret.")
    secret = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        write_only=True,
        help_text="Webhook URL, bot token, SID:TOKEN, apprise URL or signing key; never shown back.",
    )
    enabled = serializers.BooleanField(required=False, default=True)


class ChannelUpdateInput(ChannelCreateInput):
    """A partial edit: what is not sent is kept; an empty or absent secret keeps the stored one."""

    name = serializers.CharField(max_length=100, required=False)
    kind = serializers.ChoiceField(choices=ChannelKind.choices, required=False)
    enabled = serializers.BooleanField(required=False)


def _choice_list(choices, help_text: str, required: bool = False) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(choices=choices), required=required, help_text=help_text
    )


def _ids(queryset, help_text: str) -> serializers.PrimaryKeyRelatedField:
    return IdField(queryset=queryset, many=True, required=False, help_text=help_text)


class RuleUpdateInput(StrictSerializer):
    """A partial edit; a relation, when sent, replaces the current one."""

    name = serializers.CharField(max_length=100, required=False)
    position = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)
    enabled = serializers.BooleanField(required=False)
    event_kinds = _choice_list(RULE_KIND_CHOICES, "Event kinds this rule matches (at least one).")
    priorities = _ids(Priority.objects.all(), "Priority ids; empty: any.")
    services = _ids(Service.objects.all(), "Service ids; empty: any.")
    teams = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, help_text="Owner teams; empty: any."
    )
    channels = _ids(Channel.objects.all(), "Channel ids to send to.")
    users = _ids(User.objects.all(), "User ids to tell directly.")
    groups = _ids(Group.objects.all(), "Group ids whose members are told.")
    roles = _choice_list(RecipientRole.choices, "Incident roles to tell.")
    contact_kinds = _choice_list(ContactKind.choices, "Which contact methods of a person; empty: email.")
    stop = serializers.BooleanField(required=False)
    bundle_seconds = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)
    create_incident_channel = serializers.BooleanField(required=False)


class RuleCreateInput(RuleUpdateInput):
    name = serializers.CharField(max_length=100)
    event_kinds = _choice_list(RULE_KIND_CHOICES, "Event kinds this rule matches.", required=True)


class TemplateUpdateInput(StrictSerializer):
    subject = serializers.CharField(max_length=200, required=False, trim_whitespace=False)
    body = serializers.CharField(required=False, trim_whitespace=False)


class TemplatePreviewInput(StrictSerializer):
    """What to render: the stored template, or the subject and body sent (nothing is saved)."""

    subject = serializers.CharField(max_length=200, required=False, trim_whitespace=False)
    body = serializers.CharField(required=False, trim_whitespace=False)
    incident = IdField(
        queryset=Incident.objects.all(), required=False, allow_null=True, help_text="Incident id."
    )


class ContactMethodUpdateInput(StrictSerializer):
    kind = serializers.ChoiceField(choices=ContactKind.choices, required=False)
    address = serializers.CharField(max_length=254, required=False)
    enabled = serializers.BooleanField(required=False)
    page_delay_minutes = serializers.IntegerField(
        min_value=0,
        max_value=24 * 60,
        required=False,
        help_text="When paged: minutes after the page before this method is used (default 0).",
    )


class ContactMethodCreateInput(ContactMethodUpdateInput):
    kind = serializers.ChoiceField(choices=ContactKind.choices)
    address = serializers.CharField(max_length=254)
    user = IdField(
        queryset=User.objects.all(),
        required=False,
        help_text="Whose method; default yourself. Someone else's needs the change permission.",
    )
