"""Input serializers check the shape of requests; output serializers render rows. The rules live
in incidents.services, which the views call with the validated data."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.api.fields import IdOrSlugRelatedField
from common.api.serializers import StrictSerializer
from incidents.choices import (
    DismissalReason,
    IncidentStatus,
    Phase,
    Role,
    RootCauseCategory,
    ServiceTier,
    ServiceType,
    UsersAffected,
    Visibility,
)
from incidents.guards import close_refusal, postmortem_link
from incidents.models import Incident, Priority, Service, StatusUpdate, TimelineEvent
from incidents.selectors import TRANSITION_NAMES, incident_available_transitions

User = get_user_model()


class UsernameField(serializers.SlugRelatedField):
    """A user named by username; only active users can be given work."""

    default_error_messages = {"does_not_exist": 'No active user named "{value}".'}

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", User.objects.filter(is_active=True))
        kwargs.setdefault("help_text", "Username.")
        super().__init__(slug_field=User.USERNAME_FIELD, **kwargs)


def _priority_field(**kwargs) -> IdOrSlugRelatedField:
    return IdOrSlugRelatedField(
        slug_field="code",
        queryset=Priority.objects.all(),
        case_insensitive=True,
        list_choices=True,
        error_messages={"does_not_exist": 'No priority with id or code "{value}".'},
        help_text="Priority code (P2, any case) or id.",
        **kwargs,
    )


# --- Output -----------------------------------------------------------------------------------


class RecordLinkSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    url = serializers.CharField(help_text="API path of the record.")
    admin_url = serializers.CharField(help_text="Path of its admin page.")


class CloseRefusalSerializer(serializers.Serializer):
    reason = serializers.CharField()
    fix_url = serializers.CharField(help_text="Path of the admin page where this is fixed.")


class IncidentSerializer(serializers.ModelSerializer):
    """An incident as listed; the detail view adds roles and the transitions open to the caller."""

    priority = serializers.CharField(source="priority.code", read_only=True)
    priority_id = serializers.IntegerField(read_only=True)
    services = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    assignee = serializers.SlugRelatedField(slug_field=User.USERNAME_FIELD, read_only=True)
    commander = serializers.SlugRelatedField(slug_field=User.USERNAME_FIELD, read_only=True)
    # Joined by the list's query (incidents.selectors): no query per row.
    postmortem = serializers.SerializerMethodField(help_text="Its post-mortem, or null.")

    class Meta:
        model = Incident
        fields = [
            "id",
            "reference",
            "title",
            "description",
            "priority",
            "priority_id",
            "services",
            "status",
            "phase",
            "assignee",
            "commander",
            "root_cause_category",
            "users_affected",
            "services_down",
            "data_at_risk",
            "security_issue",
            "is_drill",
            "bridge_url",
            "started_at",
            "detected_at",
            "acknowledged_at",
            "resolved_at",
            "closed_at",
            "resolution_summary",
            "dismissal_reason",
            "reopen_count",
            "auto_resolved",
            "is_repeat",
            "peak_priority",
            "postmortem",
            "response_due_at",
            "resolution_due_at",
            "next_update_due_at",
            "response_breached_at",
            "resolution_breached_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(RecordLinkSerializer(allow_null=True))
    def get_postmortem(self, incident: Incident) -> dict | None:
        link = postmortem_link(incident)
        return link.as_dict() if link else None


class IncidentRolesSerializer(serializers.Serializer):
    """Who holds each response role (username), or null."""

    commander = serializers.CharField(allow_null=True)
    technical_lead = serializers.CharField(allow_null=True)
    communications_lead = serializers.CharField(allow_null=True)
    scribe = serializers.CharField(allow_null=True)


class IncidentDetailSerializer(IncidentSerializer):
    created_by = serializers.SlugRelatedField(slug_field=User.USERNAME_FIELD, read_only=True)
    duplicate_of = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    roles = serializers.SerializerMethodField()
    available_transitions = serializers.SerializerMethodField()
    close_refusal = serializers.SerializerMethodField(
        help_text="Why a resolved incident cannot close yet (a P1/P2 without its post-mortem in review), "
        "or null."
    )

    class Meta(IncidentSerializer.Meta):
        fields = [
            *IncidentSerializer.Meta.fields,
            "created_by",
            "duplicate_of",
            "roles",
            "available_transitions",
            "close_refusal",
        ]
        read_only_fields = fields

    @extend_schema_field(IncidentRolesSerializer)
    def get_roles(self, incident: Incident) -> dict[str, str | None]:
        holders: dict[str, str | None] = dict.fromkeys(Role.values)
        if incident.commander is not None:
            holders[Role.COMMANDER] = incident.commander.get_username()
        for assignment in incident.role_assignments.all():
            holders[assignment.role] = assignment.user.get_username()
        return holders

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=TRANSITION_NAMES)))
    def get_available_transitions(self, incident: Incident) -> list[str]:
        return incident_available_transitions(incident=incident, user=self.context["request"].user)

    @extend_schema_field(CloseRefusalSerializer(allow_null=True))
    def get_close_refusal(self, incident: Incident) -> dict | None:
        if incident.status != IncidentStatus.RESOLVED:
            return None
        refusal = close_refusal(incident)
        return {"reason": refusal.reason, "fix_url": refusal.fix_url} if refusal else None


class TimelineEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field=User.USERNAME_FIELD, read_only=True)
    pinned_by = serializers.SlugRelatedField(slug_field=User.USERNAME_FIELD, read_only=True)

    class Meta:
        model = TimelineEvent
        fields = [
            "id",
            "kind",
            "occurred_at",
            "actor",
            "actor_name",
            "source",
            "message",
            "details",
            "pinned",
            "pinned_by",
            "pinned_at",
        ]
        read_only_fields = fields


class StatusUpdateSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field=User.USERNAME_FIELD, read_only=True)

    class Meta:
        model = StatusUpdate
        fields = ["id", "message", "visibility", "phase", "author", "created_at"]
        read_only_fields = fields


class ServiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = [
            "id",
            "name",
            "slug",
            "type",
            "tier",
            "owner_team",
            "owner_email",
            "runbook_url",
            "description",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PrioritySerializer(serializers.ModelSerializer):
    response_target = serializers.DurationField(format="iso-8601", read_only=True, allow_null=True)
    resolution_target = serializers.DurationField(format="iso-8601", read_only=True, allow_null=True)
    update_interval = serializers.DurationField(format="iso-8601", read_only=True, allow_null=True)

    class Meta:
        model = Priority
        fields = [
            "id",
            "code",
            "name",
            "description",
            "response_target",
            "resolution_target",
            "update_interval",
        ]
        read_only_fields = fields


class PrioritySuggestionSerializer(serializers.Serializer):
    priority = serializers.CharField(help_text="Suggested priority code.")
    priority_id = serializers.IntegerField(allow_null=True, help_text="Null if that priority was deleted.")
    reasons = serializers.ListField(child=serializers.CharField())


# --- Input ------------------------------------------------------------------------------------


class IncidentUpdateInput(StrictSerializer):
    """A partial edit: the fields sent, and only those, go to incident_update."""

    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    priority = _priority_field(required=False)
    services = serializers.SlugRelatedField(
        slug_field="slug", queryset=Service.objects.all(), many=True, required=False, help_text="Slugs."
    )
    assignee = UsernameField(required=False, allow_null=True)
    commander = UsernameField(required=False, allow_null=True)
    phase = serializers.ChoiceField(choices=Phase.choices, required=False, allow_blank=True)
    root_cause_category = serializers.ChoiceField(
        choices=RootCauseCategory.choices, required=False, allow_blank=True
    )
    users_affected = serializers.ChoiceField(choices=UsersAffected.choices, required=False, allow_blank=True)
    services_down = serializers.IntegerField(min_value=0, required=False)
    data_at_risk = serializers.BooleanField(required=False)
    security_issue = serializers.BooleanField(required=False)
    is_drill = serializers.BooleanField(required=False)
    started_at = serializers.DateTimeField(
        required=False, help_text="When impact began; on creation, default detected_at."
    )
    bridge_url = serializers.URLField(
        max_length=200, required=False, allow_blank=True, help_text="The war room: call or chat link."
    )


class IncidentCreateInput(IncidentUpdateInput):
    """Only the fields sent reach incident_create, so its defaults apply to the rest."""

    title = serializers.CharField(max_length=200)
    priority = _priority_field()
    phase = None  # Every incident opens in triage.
    detected_at = serializers.DateTimeField(required=False, help_text="Default: now.")


class ReasonInput(StrictSerializer):
    reason = serializers.CharField()


class ResolveInput(StrictSerializer):
    summary = serializers.CharField(help_text="What fixed it.")


class CloseInput(StrictSerializer):
    note = serializers.CharField(required=False, allow_blank=True)


class DismissInput(StrictSerializer):
    reason = serializers.CharField()
    dismissal_reason = serializers.ChoiceField(choices=DismissalReason.choices, required=False)
    duplicate_of = IdOrSlugRelatedField(
        slug_field="reference",
        queryset=Incident.objects.all(),
        required=False,
        allow_null=True,
        help_text="Id or reference of the original incident; required when dismissal_reason is duplicate.",
    )


class NoteInput(StrictSerializer):
    message = serializers.CharField()


class PinInput(StrictSerializer):
    pinned = serializers.BooleanField(help_text="true pins the event as a key moment, false unpins it.")


class RoleAssignInput(StrictSerializer):
    role = serializers.ChoiceField(choices=Role.choices)
    user = UsernameField(allow_null=True, help_text="Username, or null to leave the role empty.")


class StatusUpdateInput(StrictSerializer):
    message = serializers.CharField()
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    phase = serializers.ChoiceField(choices=Phase.choices, required=False, allow_blank=True)


class PrioritySuggestInput(StrictSerializer):
    """The runbook's impact questions; anything left out counts as no impact."""

    users_affected = serializers.ChoiceField(choices=UsersAffected.choices, required=False, allow_blank=True)
    services_down = serializers.IntegerField(min_value=0, required=False)
    data_at_risk = serializers.BooleanField(required=False)
    security_issue = serializers.BooleanField(required=False)


class ServiceCreateInput(StrictSerializer):
    name = serializers.CharField(max_length=100)
    slug = serializers.SlugField(max_length=100, required=False, help_text="Default: from the name.")
    type = serializers.ChoiceField(choices=ServiceType.choices, required=False)
    tier = serializers.ChoiceField(choices=ServiceTier.choices, required=False)
    owner_team = serializers.CharField(max_length=100, required=False, allow_blank=True)
    owner_email = serializers.EmailField(required=False, allow_blank=True)
    runbook_url = serializers.URLField(required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)


class ServiceUpdateInput(ServiceCreateInput):
    name = serializers.CharField(max_length=100, required=False)
    slug = serializers.SlugField(max_length=100, required=False)
