"""Notification rules: which events (by kind, priority, service, team) go to which channels and
people. Saved through rule_save with their relations in one call, deleted through rule_delete."""

from django.contrib import admin
from django.http import HttpRequest

from common.admin.deletes import ServiceDeleteMixin
from common.admin.services import ServiceSaveMixin, admin_actor, adopt, refusals
from notifications.admin.forms import RuleAdminForm
from notifications.choices import EventKind
from notifications.models import NotificationRule
from notifications.selectors import rule_list
from notifications.services.configuration import SIMPLE_RULE_FIELDS, rule_delete, rule_save

RELATIONS = ("priorities", "services", "channels", "users", "groups")


@admin.register(NotificationRule)
class NotificationRuleAdmin(ServiceDeleteMixin, ServiceSaveMixin, admin.ModelAdmin):
    form = RuleAdminForm
    list_display = ("name", "position", "enabled", "kinds", "channel_names", "stop", "bundle_seconds")
    list_display_links = ("name",)
    list_filter = ("enabled", "stop")
    search_fields = ("name",)
    filter_horizontal = RELATIONS
    fieldsets = (
        (None, {"fields": ("name", "position", "enabled", "stop")}),
        ("When", {"fields": ("event_kinds", "priorities", "services", "teams")}),
        (
            "Who hears of it",
            {"fields": ("channels", "users", "groups", "roles", "contact_kinds")},
        ),
        ("How", {"fields": ("bundle_seconds", "create_incident_channel")}),
    )

    def get_queryset(self, request: HttpRequest):
        return rule_list().order_by(*(self.get_ordering(request) or ("position", "id")))

    @admin.display(description="Events")
    def kinds(self, obj: NotificationRule) -> str:
        labels = dict(EventKind.choices)
        return ", ".join(str(labels.get(kind, kind)) for kind in obj.event_kinds or []) or "-"

    @admin.display(description="Channels")
    def channel_names(self, obj: NotificationRule) -> str:
        return ", ".join(channel.name for channel in obj.channels.all()) or "-"

    def save_model(
        self, request: HttpRequest, obj: NotificationRule, form: RuleAdminForm, change: bool
    ) -> None:
        stored = NotificationRule.objects.get(pk=obj.pk) if change else None
        data = form.cleaned_data
        with refusals():
            saved = rule_save(
                by=admin_actor(request),
                rule=stored,
                **{name: data[name] for name in SIMPLE_RULE_FIELDS},
                **{name: list(data[name]) for name in RELATIONS},
            )
        adopt(obj, saved)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        """rule_save set the relations already."""

    def delete_object(self, *, by, obj: NotificationRule) -> None:
        rule_delete(rule=obj, by=by)
