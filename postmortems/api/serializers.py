"""Input serializers check the shape of requests; output serializers render rows. The rules live
in postmortems.services (and the models' clean()), which the views call with the validated data.

Five whys and supporting links go to the service as sent, so its messages ("Why 2: needs a
question ...") are the ones the admin shows too."""

from datetime import date

from django.contrib.auth import get_user_model
from django.core.exceptions import MultipleObjectsReturned, ObjectDoesNotExist
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from actions.models import Action
from common.api.fields import IdOrSlugRelatedField, parse_id
from common.api.serializers import StrictSerializer
from incidents.choices import IncidentStatus
from incidents.models import Incident, Service
from postmortems.choices import OPEN_ITEM_STATUSES, ActionItemKind
from postmortems.models import ActionItem, Postmortem, TimelineEntry
from postmortems.selectors import detection_facts, incident_duration, postmortem_write_queryset

User = get_user_model()
USERNAME = User.USERNAME_FIELD


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}]})
class IdOrUsernameField(serializers.RelatedField):
    """An active user named by id or by username. Usernames may be all digits: a string is tried
    as a username first, then as an id."""

    default_error_messages = {
        "does_not_exist": 'No active user with id or username "{value}".',
        "invalid": "Give a user id (integer) or a username (string).",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", User.objects.filter(is_active=True))
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        queryset = self.get_queryset()
        try:
            if isinstance(data, int) and not isinstance(data, bool):
                return queryset.get(pk=data)
            if isinstance(data, str) and data.strip():
                value = data.strip()
                user = queryset.filter(**{USERNAME: value}).first()
                if user is None and parse_id(value) is not None:
                    user = queryset.get(pk=parse_id(value))
                if user is not None:
                    return user
                raise ObjectDoesNotExist
        except (ObjectDoesNotExist, MultipleObjectsReturned):
            self.fail("does_not_exist", value=str(data))
        self.fail("invalid")

    def to_representation(self, value):
        return value.get_username()


# --- Output -----------------------------------------------------------------------------------


class ActionItemSerializer(serializers.ModelSerializer):
    """An action item with where it comes from; `overdue` is open or in progress past its due date."""

    incident = serializers.CharField(source="postmortem.incident.reference", read_only=True)
    owner = serializers.SlugRelatedField(slug_field=USERNAME, read_only=True)
    follow_up_action = serializers.SlugRelatedField(slug_field="name", read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = ActionItem
        fields = [
            "id",
            "postmortem_id",
            "incident",
            "description",
            "kind",
            "owner",
            "owner_id",
            "due_date",
            "status",
            "overdue",
            "wont_do_reason",
            "completed_at",
            "follow_up_action",
            "follow_up_action_id",
            "follow_up_url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField(help_text="Open or in progress, due before today."))
    def get_overdue(self, item: ActionItem) -> bool:
        return item_overdue(item)


def item_overdue(item: ActionItem, today: date | None = None) -> bool:
    return item.status in OPEN_ITEM_STATUSES and item.due_date < (today or timezone.localdate())


class PostmortemActionItemSerializer(ActionItemSerializer):
    """An action item inside its post-mortem: the post-mortem and incident go without saying."""

    class Meta(ActionItemSerializer.Meta):
        fields = [
            f
            for f in ActionItemSerializer.Meta.fields
            if f not in ("postmortem_id", "incident", "follow_up_action")
        ]
        read_only_fields = fields


class PostmortemSerializer(serializers.ModelSerializer):
    """A post-mortem as listed; the detail adds its sections, facts, review and action items."""

    incident = serializers.CharField(source="incident.reference", read_only=True)
    incident_id = serializers.IntegerField(read_only=True)
    incident_title = serializers.CharField(source="incident.title", read_only=True)
    priority = serializers.CharField(
        source="incident.priority.code", read_only=True, help_text="The incident's priority now."
    )
    authors = serializers.SlugRelatedField(slug_field=USERNAME, many=True, read_only=True)

    class Meta:
        model = Postmortem
        fields = [
            "id",
            "incident",
            "incident_id",
            "incident_title",
            "status",
            "severity",
            "priority",
            "authors",
            "review_at",
            "submitted_at",
            "published_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WhySerializer(serializers.Serializer):
    question = serializers.CharField()
    answer = serializers.CharField(allow_blank=True, required=False)


class LinkSerializer(serializers.Serializer):
    title = serializers.CharField(allow_blank=True, required=False)
    url = serializers.URLField()


class FirstAlertSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(allow_blank=True)


class PostmortemDetailSerializer(PostmortemSerializer):
    """Everything an author or reviewer reads. Duration and detection delay come from the incident's
    timestamps, so they follow corrections to it."""

    services_impacted = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    five_whys = WhySerializer(many=True, read_only=True)
    supporting_links = LinkSerializer(many=True, read_only=True)
    review_attendees = serializers.SlugRelatedField(slug_field=USERNAME, many=True, read_only=True)
    created_by = serializers.SlugRelatedField(slug_field=USERNAME, read_only=True)
    duration_seconds = serializers.SerializerMethodField()
    time_to_detect_seconds = serializers.SerializerMethodField()
    first_alert = serializers.SerializerMethodField()
    action_items = PostmortemActionItemSerializer(many=True, read_only=True)
    available_transitions = serializers.SerializerMethodField()

    class Meta(PostmortemSerializer.Meta):
        fields = [
            *PostmortemSerializer.Meta.fields,
            "executive_summary",
            "users_affected",
            "services_impacted",
            "data_loss",
            "data_loss_details",
            "failed_transactions",
            "financial_impact",
            "detection",
            "root_cause",
            "five_whys",
            "contributing_factors",
            "resolution",
            "what_went_well",
            "what_could_be_improved",
            "lessons_learned",
            "supporting_links",
            "review_attendees",
            "review_invited_at",
            "created_by",
            "published_to",
            "duration_seconds",
            "time_to_detect_seconds",
            "first_alert",
            "action_items",
            "available_transitions",
        ]
        read_only_fields = fields

    def _detection(self, postmortem: Postmortem):
        # One query for the first alert, shared by the two fields that need it.
        if not hasattr(postmortem, "_detection_facts"):
            postmortem._detection_facts = detection_facts(postmortem.incident)
        return postmortem._detection_facts

    @extend_schema_field(
        serializers.IntegerField(allow_null=True, help_text="Onset to resolution; null while unresolved.")
    )
    def get_duration_seconds(self, postmortem: Postmortem) -> int | None:
        duration = incident_duration(postmortem.incident)
        return None if duration is None else int(duration.total_seconds())

    @extend_schema_field(serializers.IntegerField(help_text="Onset to detection."))
    def get_time_to_detect_seconds(self, postmortem: Postmortem) -> int:
        return int(self._detection(postmortem).time_to_detect.total_seconds())

    @extend_schema_field(FirstAlertSerializer(allow_null=True))
    def get_first_alert(self, postmortem: Postmortem) -> dict | None:
        alert = self._detection(postmortem).first_alert
        return None if alert is None else {"id": alert.pk, "name": alert.name or alert.fingerprint}

    @extend_schema_field(
        serializers.ListField(
            child=serializers.ChoiceField(choices=["submit", "return_to_draft", "publish"]),
            help_text="Transitions open to the caller from the current status.",
        )
    )
    def get_available_transitions(self, postmortem: Postmortem) -> list[str]:
        request = self.context.get("request")
        if request is None:
            return []
        return [t.name for t in postmortem.get_available_user_status_transitions(request.user)]


class TimelineEntrySerializer(serializers.ModelSerializer):
    shown = serializers.CharField(
        read_only=True, help_text="`text` when an author reworded it, else `event`."
    )

    class Meta:
        model = TimelineEntry
        fields = [
            "id",
            "source",
            "key",
            "occurred_at",
            "event",
            "text",
            "shown",
            "who",
            "pinned",
            "hidden",
            "added_by_id",
        ]
        read_only_fields = fields


class TimelineRegeneratedSerializer(serializers.Serializer):
    added = serializers.IntegerField(help_text="Entries new since the last generation.")
    total = serializers.IntegerField(help_text="Entries listed below.")
    entries = TimelineEntrySerializer(many=True)


class RelatedIncidentSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="incident.pk")
    reference = serializers.CharField(source="incident.reference")
    title = serializers.CharField(source="incident.title")
    detected_at = serializers.DateTimeField(source="incident.detected_at")
    status = serializers.ChoiceField(source="incident.status", choices=IncidentStatus.choices)
    priority = serializers.CharField(source="incident.priority.code")
    reasons = serializers.ListField(child=serializers.CharField(), help_text="Why it looks related.")
    root_cause = serializers.CharField(
        allow_blank=True, help_text="What its post-mortem found (shortened); empty when none."
    )
    postmortem = serializers.IntegerField(
        source="postmortem.pk", allow_null=True, default=None, help_text="Its post-mortem's id."
    )


# --- Input ------------------------------------------------------------------------------------


class PostmortemCreateInput(StrictSerializer):
    incident = IdOrSlugRelatedField(
        slug_field="reference", queryset=Incident.objects.all(), help_text="Incident id or reference."
    )


@extend_schema_field(WhySerializer(many=True))
class WhysField(serializers.JSONField):
    """Checked by postmortem_update, whose messages are keyed `five_whys`."""


@extend_schema_field(LinkSerializer(many=True))
class LinksField(serializers.JSONField):
    """Checked by postmortem_update, whose messages are keyed `supporting_links`."""


def _text(**kwargs) -> serializers.CharField:
    return serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, **kwargs)


class PostmortemUpdateInput(StrictSerializer):
    """A partial edit of a draft or a post-mortem in review: the sections sent, and only those."""

    executive_summary = _text()
    users_affected = _text(max_length=200, help_text="A number or a share.")
    data_loss = serializers.BooleanField(required=False)
    data_loss_details = _text()
    failed_transactions = _text(max_length=200)
    financial_impact = _text(max_length=200)
    detection = _text()
    root_cause = _text()
    five_whys = WhysField(required=False, help_text="In order; at most 10.")
    contributing_factors = _text(help_text="One per line.")
    resolution = _text()
    what_went_well = _text(help_text="One per line.")
    what_could_be_improved = _text(help_text="One per line.")
    lessons_learned = _text()
    supporting_links = LinksField(required=False)
    authors = serializers.ListField(
        child=IdOrUsernameField(), required=False, help_text="User ids or usernames; replaces the authors."
    )
    services_impacted = serializers.ListField(
        child=IdOrSlugRelatedField(slug_field="slug", queryset=Service.objects.all()),
        required=False,
        help_text="Service ids or slugs; replaces the list.",
    )


class ReturnToDraftInput(StrictSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, help_text="Goes on the timeline.")


class ReviewScheduleInput(StrictSerializer):
    at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Default: the next whole hour a day after resolution."
    )
    attendees = serializers.ListField(
        child=IdOrUsernameField(), help_text="User ids or usernames; each gets an invitation with an .ics."
    )


class TimelineEntryAddInput(StrictSerializer):
    occurred_at = serializers.DateTimeField()
    text = serializers.CharField(help_text="What happened.")


class TimelineEntryUpdateInput(StrictSerializer):
    text = serializers.CharField(
        required=False, allow_blank=True, help_text="New wording; empty restores the generated one."
    )
    pinned = serializers.BooleanField(required=False)
    hidden = serializers.BooleanField(required=False)
    occurred_at = serializers.DateTimeField(required=False, help_text="Author entries only.")


class ActionItemUpdateInput(StrictSerializer):
    description = serializers.CharField(required=False)
    kind = serializers.ChoiceField(choices=ActionItemKind.choices, required=False)
    owner = IdOrUsernameField(required=False, help_text="User id or username.")
    due_date = serializers.DateField(required=False)
    follow_up_action = IdOrSlugRelatedField(
        slug_field="name",
        queryset=Action.objects.all(),
        required=False,
        allow_null=True,
        help_text="Action id or name: an automation made from this item.",
    )
    follow_up_url = serializers.URLField(required=False, allow_blank=True)


class ActionItemCreateInput(ActionItemUpdateInput):
    postmortem = serializers.PrimaryKeyRelatedField(
        queryset=postmortem_write_queryset(), help_text="Post-mortem id."
    )
    description = serializers.CharField()
    kind = serializers.ChoiceField(choices=ActionItemKind.choices)
    owner = IdOrUsernameField(help_text="User id or username.")
    due_date = serializers.DateField()


class DropInput(StrictSerializer):
    reason = serializers.CharField(allow_blank=True, help_text="Why it will not be done (required).")
