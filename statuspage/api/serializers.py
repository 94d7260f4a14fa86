"""Input serializers check the shape of requests; output serializers render rows. The rules (names
unique, statuses per kind, windows that end after they start) live in statuspage.services."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.api.serializers import StrictSerializer
from incidents.models import Incident, Service
from notifications.api.serializers import IdField
from statuspage.choices import ComponentStatus, Impact, PublicStatus
from statuspage.models import (
    AffectedComponent,
    Component,
    ComponentGroup,
    PageSettings,
    PublicIncident,
    PublicUpdate,
)

TEXT = {"trim_whitespace": False}  # The services trim and say what is wrong, once.

# --- Output -----------------------------------------------------------------------------------


class ComponentGroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = ComponentGroup
        fields = ["id", "name", "description", "order", "created_at", "updated_at"]
        read_only_fields = fields


class ComponentSerializer(serializers.ModelSerializer):
    group = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    services = serializers.SerializerMethodField(help_text="Ids of the Mitigate services behind it.")

    class Meta:
        model = Component
        fields = [
            "id",
            "name",
            "description",
            "group",
            "order",
            "shown",
            "status",
            "status_changed_at",
            "services",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_services(self, obj: Component) -> list[int]:
        return sorted(service.pk for service in obj.services.all())


class AffectedSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="component.name", read_only=True)

    class Meta:
        model = AffectedComponent
        fields = ["component", "name", "status"]
        read_only_fields = fields


class ComponentChangeSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The component's id.")
    name = serializers.CharField()
    old_status = serializers.ChoiceField(choices=ComponentStatus.choices)
    new_status = serializers.ChoiceField(choices=ComponentStatus.choices)


class PublicUpdateSerializer(serializers.ModelSerializer):
    affected_components = ComponentChangeSerializer(many=True, read_only=True)
    author = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = PublicUpdate
        fields = ["id", "status", "message", "affected_components", "notify", "author", "created_at"]
        read_only_fields = fields


class PublicIncidentSerializer(serializers.ModelSerializer):
    incident = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    components = AffectedSerializer(source="affected", many=True, read_only=True)
    updates = serializers.SerializerMethodField(help_text="Oldest first.")

    class Meta:
        model = PublicIncident
        fields = [
            "id",
            "kind",
            "title",
            "impact",
            "status",
            "incident",
            "components",
            "started_at",
            "resolved_at",
            "scheduled_for",
            "scheduled_until",
            "updates",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(PublicUpdateSerializer(many=True))
    def get_updates(self, obj: PublicIncident) -> list[dict]:
        # Prefetched newest first (the model's order); told oldest first, as the page reads.
        updates = sorted(obj.updates.all(), key=lambda update: (update.created_at, update.pk))
        return PublicUpdateSerializer(updates, many=True).data


class PageSettingsSerializer(serializers.ModelSerializer):
    has_logo = serializers.SerializerMethodField()

    class Meta:
        model = PageSettings
        fields = [
            "name",
            "accent_colour",
            "support_url",
            "time_zone",
            "private",
            "history_days",
            "has_logo",
            "logo_content_type",
            "updated_at",
        ]
        read_only_fields = fields

    def get_has_logo(self, obj: PageSettings) -> bool:
        return bool(obj.logo)


# --- Input ------------------------------------------------------------------------------------


class ComponentGroupInput(StrictSerializer):
    name = serializers.CharField(max_length=100, **TEXT)
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000, **TEXT)
    order = serializers.IntegerField(required=False, min_value=0, max_value=2_147_483_647)


class ComponentGroupUpdateInput(ComponentGroupInput):
    name = serializers.CharField(required=False, max_length=100, **TEXT)


class ComponentInput(StrictSerializer):
    name = serializers.CharField(max_length=100, **TEXT)
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000, **TEXT)
    group = IdField(queryset=ComponentGroup.objects.all(), required=False, allow_null=True)
    order = serializers.IntegerField(required=False, min_value=0, max_value=2_147_483_647)
    shown = serializers.BooleanField(required=False)
    services = IdField(queryset=Service.objects.all(), many=True, required=False, help_text="Service ids.")


class ComponentUpdateInput(ComponentInput):
    name = serializers.CharField(required=False, max_length=100, **TEXT)
    status = serializers.ChoiceField(
        choices=ComponentStatus.choices,
        required=False,
        help_text="An operator's word on the component now (the open incidents naming it change it again).",
    )


class AffectedInput(StrictSerializer):
    component = IdField(queryset=Component.objects.all())
    status = serializers.ChoiceField(choices=ComponentStatus.choices)


def _components(items: list[dict]) -> dict[Component, str]:
    return {item["component"]: item["status"] for item in items}


class PublicIncidentInput(StrictSerializer):
    title = serializers.CharField(max_length=200, **TEXT)
    message = serializers.CharField(max_length=10_000, help_text="The first update.", **TEXT)
    impact = serializers.ChoiceField(
        choices=Impact.choices, required=False, help_text="none, minor, major or critical (default minor)."
    )
    status = serializers.ChoiceField(
        choices=PublicStatus.choices,
        required=False,
        help_text="investigating, identified or monitoring (default investigating).",
    )
    components = AffectedInput(many=True, required=False, help_text="Each affected component and its status.")
    incident = IdField(
        queryset=Incident.objects.all(),
        required=False,
        allow_null=True,
        help_text="The Mitigate incident behind it.",
    )
    notify = serializers.BooleanField(required=False, help_text="Tell subscribers (default true).")


class PublicIncidentUpdateInput(StrictSerializer):
    title = serializers.CharField(required=False, max_length=200, **TEXT)
    impact = serializers.ChoiceField(choices=Impact.choices, required=False)


class PublicUpdateInput(StrictSerializer):
    status = serializers.ChoiceField(
        choices=PublicStatus.choices, help_text="One of the incident's (or the maintenance's) statuses."
    )
    message = serializers.CharField(max_length=10_000, **TEXT)
    components = AffectedInput(many=True, required=False, help_text="Components to add or restate.")
    notify = serializers.BooleanField(required=False, help_text="Tell subscribers (default true).")


class MaintenanceInput(StrictSerializer):
    title = serializers.CharField(max_length=200, **TEXT)
    message = serializers.CharField(max_length=10_000, **TEXT)
    scheduled_for = serializers.DateTimeField()
    scheduled_until = serializers.DateTimeField()
    components = IdField(
        queryset=Component.objects.all(), many=True, required=False, help_text="Component ids."
    )
    notify = serializers.BooleanField(required=False, help_text="Tell subscribers (default true).")


class PageSettingsInput(StrictSerializer):
    name = serializers.CharField(required=False, max_length=100, **TEXT)
    accent_colour = serializers.RegexField(
        r"^#[0-9a-fA-F]{6}$", required=False, max_length=7, help_text="#rrggbb", **TEXT
    )
    support_url = serializers.CharField(required=False, allow_blank=True, max_length=300, **TEXT)
    time_zone = serializers.CharField(
        required=False, max_length=64, help_text="IANA name, e.g. Europe/Berlin.", **TEXT
    )
    private = serializers.BooleanField(required=False)
    history_days = serializers.IntegerField(required=False, min_value=1, max_value=366)
