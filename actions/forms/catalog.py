"""Action forms: the action with its parameters, its steps (saved with it by action_save), and
"use a template"."""

import json
from typing import Any

from django import forms
from django.utils.html import format_html

from actions.choices import TargetKind
from actions.forms.fields import MONOSPACE, TagsField
from actions.models import Action, ActionStep, Provider, ProviderGroup
from common.forms import UNORDERED, PrettyJSONField, ServiceErrorsMixin, ServiceRowsFormSet

PARAMETERS_HELP = format_html(
    "A JSON list of the values a run asks for. Each is an object with <code>name</code> (letters, "
    "digits, underscores), and optionally <code>description</code>, <code>default</code>, "
    "<code>required</code> (true/false) and <code>pattern</code> (a regular expression the whole "
    "value must match). Commands use a parameter as <code>{}</code>; the value is always "
    "shell-quoted. A parameter an automated response fills from an alert needs a pattern. "
    "Example: <code>{}</code>. Leave <code>[]</code> for none.",
    "{{ params.service }}",
    json.dumps(
        [
            {
                "name": "service",
                "description": "The systemd unit",
                "required": True,
                "pattern": "^[A-Za-z0-9@._-]+$",
            }
        ]
    ),
)
COMMAND_HELP = format_html(
    "Run with <code>sh -c</code> on each target host. <code>{}</code>, <code>{}</code> and "
    "<code>{}</code> are replaced by their shell-quoted values: use them as whole words (or as "
    "<code>name=</code> plus one), never inside quotes, <code>$(...)</code>, a here-document or "
    "<code>sh -c</code>. Exit status 0 means success.",
    "{{ params.name }}",
    "{{ incident.reference }}",
    "{{ incident.title }}",
)


class ActionAdminForm(ServiceErrorsMixin, forms.ModelForm):
    tags = TagsField()
    parameters = PrettyJSONField(
        required=False,
        help_text=PARAMETERS_HELP,
        widget=forms.Textarea(attrs={"rows": 12, "cols": 80, "class": MONOSPACE, "spellcheck": "false"}),
    )

    class Meta:
        model = Action
        fields = (
            "name",
            "description",
            "category",
            "risk",
            "enabled",
            "tags",
            "estimated_duration",
            "services",
            "parameters",
        )
        help_texts = {
            "estimated_duration": "Hours:minutes:seconds, e.g. 00:00:45.",
            "risk": "High-risk actions always wait for an approver before they run.",
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 3, "cols": 80})}

    def clean_parameters(self) -> Any:
        value = self.cleaned_data.get("parameters")
        return [] if value in (None, "") else value


class ActionStepForm(ServiceErrorsMixin, forms.ModelForm):
    order = forms.IntegerField(
        required=False, min_value=0, help_text="Steps run by this number, lowest first.", label="Order"
    )

    class Meta:
        model = ActionStep
        fields = (
            "order",
            "name",
            "command",
            "target_kind",
            "provider",
            "provider_group",
            "target_parameter",
            "condition",
            "timeout_seconds",
            "retries",
            "retry_delay_seconds",
            "failure_policy",
        )
        widgets = {
            "command": forms.Textarea(
                attrs={"rows": 12, "cols": 100, "class": MONOSPACE, "spellcheck": "false", "wrap": "off"}
            ),
            "order": forms.NumberInput(attrs={"style": "width: 5em"}),
        }
        help_texts = {
            "command": COMMAND_HELP,
            "timeout_seconds": "Seconds before the command is killed.",
            "retries": "Attempts after a failure.",
            "retry_delay_seconds": "Seconds between attempts.",
            "failure_policy": "For a provider group.",
        }

    def clean_order(self) -> int:
        value = self.cleaned_data.get("order")
        return UNORDERED if value is None else value

    def step_spec(self) -> dict[str, Any]:
        """The step as action_save takes it: only the target its kind uses."""
        data = self.cleaned_data
        spec = {
            field: data[field]
            for field in (
                "name",
                "command",
                "target_kind",
                "condition",
                "timeout_seconds",
                "retries",
                "retry_delay_seconds",
                "failure_policy",
            )
        }
        kind = data["target_kind"]
        spec["provider"] = data.get("provider") if kind == TargetKind.PROVIDER else None
        spec["provider_group"] = data.get("provider_group") if kind == TargetKind.GROUP else None
        spec["target_parameter"] = (data.get("target_parameter") or "") if kind == TargetKind.TRIGGER else ""
        return spec


class ActionStepFormSet(ServiceRowsFormSet):
    """The steps of an action, saved by action_save."""


# --- Templates -------------------------------------------------------------------------------------


def target_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    providers = [
        (f"provider:{p.pk}", p.label) for p in Provider.objects.filter(enabled=True).order_by("name")
    ]
    groups = [(f"group:{g.pk}", g.name) for g in ProviderGroup.objects.order_by("name")]
    choices: list[Any] = [("", "---------")]
    if providers:
        choices.append(("Providers", providers))
    if groups:
        choices.append(("Provider groups (every host, in parallel)", groups))
    return choices


class UseTemplateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="The new action's name; it must be unique.")
    target = forms.ChoiceField(
        label="Runs on",
        help_text="Every step of the new action runs on this provider or group; you can change each later.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = target_choices()

    def clean_target(self) -> Provider | ProviderGroup:
        kind, _, pk = self.cleaned_data["target"].partition(":")
        model = {"provider": Provider, "group": ProviderGroup}.get(kind)
        target = model.objects.filter(pk=pk).first() if model and pk.isdigit() else None
        if target is None:
            raise forms.ValidationError("Choose a provider or a provider group.")
        return target
