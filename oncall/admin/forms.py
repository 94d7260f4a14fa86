"""The on-call admin's forms: they collect input (members typed in turn order, weekdays as boxes);
oncall.services checks and saves it."""

from typing import Any

from django import forms
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.contrib.auth import get_user_model

from alerts.models import AlertRule
from common.forms import UNORDERED, ServiceErrorsMixin, ServiceRowsFormSet
from incidents.models import Service
from oncall.models import EscalationPolicy, EscalationStep, Layer, Override, Schedule
from oncall.services.schedules import LAYER_FIELDS

User = get_user_model()
WEEKDAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]


class ScheduleAdminForm(ServiceErrorsMixin, forms.ModelForm):
    class Meta:
        model = Schedule
        fields = ("name", "description", "time_zone", "team")


class LayerAdminForm(ServiceErrorsMixin, forms.ModelForm):
    members = forms.CharField(
        label="Members (in turn order)",
        help_text="Usernames separated by commas; the first takes the first turn from the start date.",
        widget=forms.TextInput(attrs={"size": 60}),
    )
    restrict_weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every day.",
    )

    class Meta:
        model = Layer
        fields = LAYER_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            # The inline's queryset prefetched the members with their users.
            self.fields["members"].initial = ", ".join(
                m.user.get_username() for m in self.instance.members.all()
            )

    def clean_members(self) -> list[int]:
        names = [name.strip() for name in self.cleaned_data["members"].split(",") if name.strip()]
        found = dict(User.objects.filter(username__in=names).values_list("username", "pk"))
        unknown = [name for name in names if name not in found]
        if unknown:
            raise forms.ValidationError(f"No such user: {', '.join(unknown)}.")
        return [found[name] for name in names]

    def layer_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in LAYER_FIELDS}


class OverrideAdminForm(ServiceErrorsMixin, forms.ModelForm):
    class Meta:
        model = Override
        fields = ("schedule", "user", "replaces", "starts_at", "ends_at", "reason")


class PolicyAdminForm(ServiceErrorsMixin, forms.ModelForm):
    services = forms.ModelMultipleChoiceField(
        Service.objects.order_by("name"),
        required=False,
        widget=FilteredSelectMultiple("services", is_stacked=False),
        help_text="Incidents on these services page through this policy (one policy per service).",
    )
    alert_rules = forms.ModelMultipleChoiceField(
        AlertRule.objects.order_by("name"),
        required=False,
        widget=FilteredSelectMultiple("alert rules", is_stacked=False),
        help_text="Incidents these rules open page through this policy, before their services' policies.",
    )

    class Meta:
        model = EscalationPolicy
        fields = ("name", "description", "repeat_count", "page_threshold", "notify_threshold")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["services"].initial = [link.service_id for link in self.instance.service_links.all()]
            self.fields["alert_rules"].initial = [link.rule_id for link in self.instance.rule_links.all()]


class StepAdminForm(ServiceErrorsMixin, forms.ModelForm):
    order = forms.IntegerField(
        required=False,
        widget=forms.NumberInput(attrs={"style": "width: 5em"}),
        help_text="Steps run in this order.",
    )

    class Meta:
        model = EscalationStep
        fields = ("order", "delay_minutes", "users", "schedules", "channels", "notify_all_oncall")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["order"].initial = (self.instance.position + 1) * 10

    def clean_order(self) -> int:
        value = self.cleaned_data.get("order")
        return UNORDERED if value is None else value

    def step_spec(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "delay_minutes": data.get("delay_minutes") or 0,
            "users": list(data.get("users") or []),
            "schedules": list(data.get("schedules") or []),
            "channels": list(data.get("channels") or []),
            "notify_all_oncall": bool(data.get("notify_all_oncall")),
        }


class StepFormSet(ServiceRowsFormSet):
    """The steps of a policy, saved by policy_save."""


class TakeOverForm(forms.Form):
    until = forms.DateTimeField(
        required=False, help_text="Empty: until the end of the current shift.", widget=forms.HiddenInput
    )
