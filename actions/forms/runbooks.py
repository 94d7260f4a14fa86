"""Runbook forms: the runbook and its steps, saved as a whole by runbook_create / runbook_update;
the state capture of a service."""

from typing import Any

from django import forms

from actions.forms.fields import MONOSPACE
from actions.models import Runbook, RunbookStep, ServiceCapture
from actions.services.capture import capture_default_action
from common.forms import UNORDERED, PrettyJSONField, ServiceErrorsMixin, ServiceRowsFormSet

STEP_PARAMETERS_HELP = (
    "Optional: the action's parameters filled from the incident when someone clicks Run, as JSON, "
    'e.g. {"host": "{{ alert.labels.instance }}", "ticket": "{{ incident.reference }}"}. '
    "They are prefilled in the run form, checked against the action's patterns and quoted into its commands."
)


class RunbookAdminForm(ServiceErrorsMixin, forms.ModelForm):
    class Meta:
        model = Runbook
        fields = ("title", "service", "summary")


class RunbookStepForm(ServiceErrorsMixin, forms.ModelForm):
    order = forms.IntegerField(
        required=False, min_value=0, label="Order", help_text="Steps are shown by this number, lowest first."
    )
    parameters = PrettyJSONField(
        required=False,
        help_text=STEP_PARAMETERS_HELP,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80, "class": MONOSPACE, "spellcheck": "false"}),
    )

    class Meta:
        model = RunbookStep
        fields = ("order", "text", "action", "parameters")
        widgets = {
            "text": forms.Textarea(attrs={"rows": 4, "cols": 100}),
            "order": forms.NumberInput(attrs={"style": "width: 5em"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial.setdefault("order", self.instance.position * 10)

    def clean_order(self) -> int:
        value = self.cleaned_data.get("order")
        return UNORDERED if value is None else value

    def step_spec(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "text": data.get("text") or "",
            "action": data.get("action"),
            "parameters": data.get("parameters") or {},
        }


class RunbookStepFormSet(ServiceRowsFormSet):
    """The steps of a runbook, saved by runbook_create / runbook_update."""


class ServiceCaptureForm(ServiceErrorsMixin, forms.ModelForm):
    parameters = PrettyJSONField(
        required=False,
        help_text='The action\'s values for this service, e.g. {"endpoint": "5432"}; others: defaults.',
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60, "class": MONOSPACE, "spellcheck": "false"}),
    )

    class Meta:
        model = ServiceCapture
        fields = ("service", "action", "parameters", "enabled")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].required = False
        self.fields["action"].help_text = "Blank: the action made from the Health check template."
        if self.instance.pk is None:
            self.initial.setdefault("action", capture_default_action())
