from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.html import format_html

from common.admin.services import ServiceSaveMixin, admin_actor, adopt, refusals
from drills.models import DrillSchedule
from drills.selectors import drill_schedule_list
from drills.services import drill_schedule_delete, drill_schedule_save
from drills.services.schedules import DEFAULT_SCHEDULE, crontab_fields, crontab_text


class DrillScheduleForm(forms.ModelForm):
    crontab = forms.CharField(
        initial=DEFAULT_SCHEDULE,
        help_text="A crontab in the server's time zone: minute hour day-of-month month day-of-week. "
        "0 10 * * 3 is Wednesdays at 10:00.",
    )

    class Meta:
        model = DrillSchedule
        fields = ["name", "scenario", "enabled", "participants"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["participants"].queryset = (
            get_user_model().objects.filter(is_active=True).order_by("username")
        )
        if self.instance.pk:
            self.initial["crontab"] = crontab_text(self.instance.periodic_task) or DEFAULT_SCHEDULE
        for name, errors in (getattr(self, "service_errors", None) or {}).items():
            target = "crontab" if name == "schedule" else name
            self.add_error(target if target in self.fields else None, errors)

    def clean_crontab(self) -> str:
        try:
            crontab_fields(self.cleaned_data["crontab"])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict.get("schedule", exc.messages)) from exc
        return " ".join(self.cleaned_data["crontab"].split())


@admin.register(DrillSchedule)
class DrillScheduleAdmin(ServiceSaveMixin, admin.ModelAdmin):
    form = DrillScheduleForm
    list_display = ("name", "scenario", "schedule_display", "enabled")
    list_filter = ("enabled",)
    list_select_related = ("scenario", "periodic_task__crontab")
    search_fields = ("name", "scenario__name")
    filter_horizontal = ("participants",)

    def get_queryset(self, request: HttpRequest):
        return drill_schedule_list()

    @admin.display(description="Schedule")
    def schedule_display(self, schedule: DrillSchedule) -> str:
        return format_html("<code>{}</code>", crontab_text(schedule.periodic_task) or "none")

    def save_model(self, request: HttpRequest, obj: DrillSchedule, form, change: bool) -> None:
        stored = DrillSchedule.objects.get(pk=obj.pk) if change else None
        data = form.cleaned_data
        with refusals():
            saved = drill_schedule_save(
                by=admin_actor(request),
                schedule=stored,
                data={
                    "name": data["name"],
                    "scenario": data["scenario"],
                    "enabled": data.get("enabled", False),
                },
                participants=list(data.get("participants") or []),
                crontab=data["crontab"],
            )
        adopt(obj, saved)

    def save_related(self, request, form, formsets, change) -> None:
        pass  # The service set the participants.

    def delete_model(self, request: HttpRequest, obj: DrillSchedule) -> None:
        drill_schedule_delete(by=admin_actor(request), schedule=obj)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for schedule in queryset:
            drill_schedule_delete(by=admin_actor(request), schedule=schedule)
