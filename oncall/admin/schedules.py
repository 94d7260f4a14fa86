"""Schedules with their layers (members typed in turn order), and overrides. Saved through
oncall.services: a refused layer rolls the whole page back and shows why."""

import datetime as dt
from functools import partial
from zoneinfo import ZoneInfo

from django.contrib import admin
from django.http import HttpRequest
from django.urls import path, reverse
from django.utils import timezone

from common.actor import Actor
from common.admin.deletes import ServiceDeleteMixin
from common.admin.services import ServiceSaveMixin, admin_actor, adopt, refusals
from oncall import config_selectors as selectors
from oncall import selectors as shared
from oncall.admin.forms import LayerAdminForm, OverrideAdminForm, ScheduleAdminForm
from oncall.admin.my_oncall import my_oncall_view, take_over_view
from oncall.admin.timeline import schedule_timeline
from oncall.models import Layer, Override, Schedule
from oncall.services.overrides import override_create, override_delete, override_update
from oncall.services.schedules import (
    SCHEDULE_FIELDS,
    layer_delete,
    layer_save,
    schedule_delete,
    schedule_save,
)


class LayerInline(admin.StackedInline):
    model = Layer
    form = LayerAdminForm
    extra = 0
    verbose_name_plural = "Layers (higher levels win where they overlap)"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("name", "level"),
                    "members",
                    ("rotation_unit", "rotation_length"),
                    ("start_date", "handoff_time"),
                    "restrict_weekdays",
                    ("restrict_start_time", "restrict_end_time"),
                )
            },
        ),
    )

    def get_queryset(self, request: HttpRequest):
        return selectors.layer_list().order_by("-level", "id")

    def get_extra(self, request: HttpRequest, obj: Schedule | None = None, **kwargs) -> int:
        return 1 if obj is None else 0

    @admin.display(description="Members (in turn order)")
    def members(self, obj: Layer) -> str:
        """Shown instead of the form's field to those who may only view the schedule."""
        return ", ".join(member.user.get_username() for member in obj.members.all()) or "-"


@admin.register(Schedule)
class ScheduleAdmin(ServiceDeleteMixin, ServiceSaveMixin, admin.ModelAdmin):
    form = ScheduleAdminForm
    inlines = (LayerInline,)
    list_display = ("name", "time_zone", "team", "layer_summary")
    list_filter = ("team", "time_zone")
    search_fields = ("name", "team", "description")
    show_full_result_count = False

    change_form_template = "admin/oncall/schedule/change_form.html"

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        site = self.admin_site
        own = [
            path("mine/", site.admin_view(partial(my_oncall_view, site=site)), name=f"{info}_mine"),
            path("<path:object_id>/take-over/", site.admin_view(take_over_view), name=f"{info}_take_over"),
        ]
        return own + super().get_urls()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and change:
            first_day = _timeline_from(request) or timezone.localtime(timezone=ZoneInfo(obj.time_zone)).date()
            context["timeline"] = schedule_timeline(schedule=obj, first_day=first_day)
            context["on_call_now"] = ", ".join(
                user.get_username() for user in shared.oncall_at(schedules=[obj]).get(obj.pk, [])
            )
            if request.user.has_perm("oncall.add_override"):
                context["take_over_url"] = reverse("admin:oncall_schedule_take_over", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_queryset(self, request: HttpRequest):
        return shared.schedule_list().order_by(*(self.get_ordering(request) or ("name",)))

    @admin.display(description="Layers")
    def layer_summary(self, obj: Schedule) -> str:
        return (
            "; ".join(
                f"{layer.name}: {', '.join(m.user.get_username() for m in layer.members.all())}"
                for layer in obj.layers.all()
            )
            or "-"
        )

    def save_model(self, request: HttpRequest, obj: Schedule, form: ScheduleAdminForm, change: bool) -> None:
        with refusals():
            saved = schedule_save(
                by=admin_actor(request),
                schedule=obj if change else None,
                **{name: form.cleaned_data[name] for name in SCHEDULE_FIELDS},
            )
        adopt(obj, saved)

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        """Each layer through layer_save (or layer_delete); the first refusal undoes the page."""
        by, schedule = admin_actor(request), form.instance
        for layer_form in formset.forms:
            stored = layer_form.instance if layer_form.instance.pk else None
            label = f"Layer “{layer_form.cleaned_data.get('name') or (stored and stored.name) or 'new'}”"
            with refusals(prefix=label, name_fields=True):
                if formset._should_delete_form(layer_form):
                    if stored is not None:
                        layer_delete(by=by, layer=stored)
                    continue
                if stored is None and not layer_form.has_changed():
                    continue
                members = layer_form.cleaned_data["members"]
                layer_save(
                    by=by, schedule=schedule, layer=stored, member_ids=members, **layer_form.layer_fields()
                )
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def delete_object(self, *, by: Actor, obj: Schedule) -> None:
        schedule_delete(by=by, schedule=obj)


def _timeline_from(request: HttpRequest) -> dt.date | None:
    try:
        return dt.date.fromisoformat(request.GET.get("timeline_from", ""))
    except ValueError:
        return None


class OverrideTimeFilter(admin.SimpleListFilter):
    title = "when"
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [("current", "Now or later"), ("past", "Past")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "current":
            return queryset.filter(ends_at__gt=now)
        if self.value() == "past":
            return queryset.filter(ends_at__lte=now)
        return queryset


@admin.register(Override)
class OverrideAdmin(ServiceDeleteMixin, ServiceSaveMixin, admin.ModelAdmin):
    form = OverrideAdminForm
    list_display = ("schedule", "user", "replaces", "starts_at", "ends_at", "reason", "created_by")
    list_filter = (OverrideTimeFilter, "schedule")
    list_select_related = ("schedule", "user", "replaces", "created_by")
    search_fields = ("user__username", "replaces__username", "reason", "schedule__name")
    autocomplete_fields = ("user", "replaces")
    date_hierarchy = "starts_at"
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: Override | None = None):
        return ("schedule",) if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Override, form: OverrideAdminForm, change: bool) -> None:
        data = form.cleaned_data
        fields = {name: data.get(name) for name in ("user", "replaces", "starts_at", "ends_at", "reason")}
        with refusals():
            if change:
                saved = override_update(by=admin_actor(request), override=obj, **fields)
            else:
                saved = override_create(by=admin_actor(request), schedule=data["schedule"], **fields)
        adopt(obj, saved)

    def delete_object(self, *, by: Actor, obj: Override) -> None:
        override_delete(by=by, override=obj)
