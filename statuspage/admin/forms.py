"""The status page admin's forms: they collect input; statuspage.services checks and saves it."""

from typing import Any

from django import forms
from django.contrib.admin.widgets import AdminSplitDateTime, FilteredSelectMultiple

from common.forms import ServiceErrorsMixin
from incidents.models import Service
from statuspage.choices import (
    INCIDENT_STATUSES,
    MAINTENANCE_STATUSES,
    ComponentStatus,
    Impact,
    Kind,
    PublicStatus,
)
from statuspage.models import Component, ComponentGroup, PageSettings, PublicIncident
from statuspage.services.catalog import MAX_LOGO_BYTES

INCIDENT_IMPACTS = [(value, label) for value, label in Impact.choices if value != Impact.MAINTENANCE]
NOT_AFFECTED = ("", "Not affected")


class ComponentGroupForm(ServiceErrorsMixin, forms.ModelForm):
    class Meta:
        model = ComponentGroup
        fields = ("name", "description", "order")


class ComponentForm(ServiceErrorsMixin, forms.ModelForm):
    status = forms.ChoiceField(
        choices=ComponentStatus.choices,
        initial=ComponentStatus.OPERATIONAL,
        help_text="An operator's word on it now; incidents and maintenance naming it change it again.",
    )
    services = forms.ModelMultipleChoiceField(
        queryset=Service.objects.order_by("name"),
        required=False,
        widget=FilteredSelectMultiple("services", is_stacked=False),
        help_text="Their incidents suggest this component when posting to the status page.",
    )

    class Meta:
        model = Component
        fields = ("name", "description", "group", "order", "shown", "status", "services")


class PageSettingsForm(ServiceErrorsMixin, forms.ModelForm):
    logo_file = forms.FileField(
        required=False,
        label="Logo",
        help_text=f"PNG, JPEG, GIF, WebP or a plain SVG, at most {MAX_LOGO_BYTES // 1024} KB.",
    )
    logo_clear = forms.BooleanField(required=False, label="Remove the logo")

    class Meta:
        model = PageSettings
        fields = ("name", "accent_colour", "support_url", "time_zone", "private", "history_days")

    def logo_bytes(self) -> bytes | None:
        """The upload's bytes, read up to one byte past the limit (the service says it is too big)."""
        upload = self.cleaned_data.get("logo_file")
        return upload.read(MAX_LOGO_BYTES + 1) if upload else None


def component_fields(form: forms.Form, *, public: PublicIncident | None, statuses: dict[int, str]) -> None:
    """One select per shown component (and any the incident already names): its status during the
    incident, or not affected."""
    named = set(statuses)
    components = Component.objects.filter(shown=True) | Component.objects.filter(pk__in=named)
    for component in components.select_related("group").order_by("group__order", "order", "name"):
        form.fields[f"component_{component.pk}"] = forms.ChoiceField(
            label=f"{component.group.name} / {component.name}" if component.group_id else component.name,
            choices=[NOT_AFFECTED, *ComponentStatus.choices],
            required=False,
            initial=statuses.get(component.pk, ""),
        )
        form.fields[f"component_{component.pk}"].component = component


def components_chosen(form: forms.Form) -> dict[Component, str]:
    return {
        field.component: form.cleaned_data[name]
        for name, field in form.fields.items()
        if name.startswith("component_") and form.cleaned_data.get(name)
    }


class PublicIncidentOpenForm(forms.Form):
    title = forms.CharField(
        max_length=200,
        help_text="What customers read: never the internal title unless you mean it.",
        widget=forms.TextInput(attrs={"size": 80}),
    )
    impact = forms.ChoiceField(choices=INCIDENT_IMPACTS, initial=Impact.MINOR)
    status = forms.ChoiceField(
        choices=[(s, PublicStatus(s).label) for s in INCIDENT_STATUSES if s != PublicStatus.RESOLVED]
    )
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 8, "cols": 80}))
    notify = forms.BooleanField(required=False, initial=True, label="Notify subscribers")

    def __init__(self, *args: Any, statuses: dict[int, str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        component_fields(self, public=None, statuses=statuses or {})


class PublicUpdateForm(forms.Form):
    """Post an update: the kind's statuses only; components restated (or added) with their status."""

    status = forms.ChoiceField()
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 8, "cols": 80}))
    notify = forms.BooleanField(required=False, initial=True, label="Notify subscribers")

    def __init__(self, *args: Any, public: PublicIncident, **kwargs: Any):
        super().__init__(*args, **kwargs)
        allowed = INCIDENT_STATUSES if public.kind == Kind.INCIDENT else MAINTENANCE_STATUSES
        self.fields["status"].choices = [(s, PublicStatus(s).label) for s in allowed]
        statuses = dict(public.affected.values_list("component_id", "status"))
        component_fields(self, public=public, statuses=statuses)


class MaintenanceForm(forms.Form):
    title = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"size": 80}))
    scheduled_for = forms.SplitDateTimeField(widget=AdminSplitDateTime, label="Starts")
    scheduled_until = forms.SplitDateTimeField(widget=AdminSplitDateTime, label="Ends")
    components = forms.ModelMultipleChoiceField(
        queryset=Component.objects.order_by("order", "name"),
        required=False,
        widget=FilteredSelectMultiple("components", is_stacked=False),
        help_text="Under maintenance while the window is open.",
    )
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 6, "cols": 80}))
    notify = forms.BooleanField(required=False, initial=True, label="Notify subscribers")


class PublicIncidentEditForm(ServiceErrorsMixin, forms.ModelForm):
    """The change page edits the title and impact only; updates are posted on their own page."""

    class Meta:
        model = PublicIncident
        fields = ("title", "impact")
