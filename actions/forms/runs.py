"""Running actions: choose one, fill in its parameters, and approve, reject or cancel a run."""

from typing import Any

from django import forms

from actions.choices import Risk, RunStatus
from actions.forms.fields import MONOSPACE
from actions.models import Action
from actions.parameters import MAX_VALUE_LENGTH


class ChooseActionForm(forms.Form):
    action = forms.ModelChoiceField(
        queryset=Action.objects.filter(enabled=True).order_by("name"),
        empty_label="Choose an action",
        help_text="Enabled actions only.",
    )


def parameter_field_name(name: str) -> str:
    return f"param_{name}"


class RunActionForm(forms.Form):
    """One field per parameter the action declares, and whether to ask an approver first."""

    require_approval = forms.BooleanField(
        label="Ask an approver first",
        required=False,
        help_text="The run waits until an approver other than you approves it.",
    )

    def __init__(self, *args: Any, action: Action, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.action = action
        fields = {}
        for declaration in action.parameters:
            name = declaration["name"]
            default = declaration.get("default")
            help_parts = [declaration.get("description") or ""]
            if declaration.get("pattern"):
                help_parts.append(f"Must match {declaration['pattern']}.")
            fields[parameter_field_name(name)] = forms.CharField(
                label=name,
                required=bool(declaration.get("required")) and default in (None, ""),
                initial="" if default is None else str(default),
                max_length=MAX_VALUE_LENGTH,
                help_text=" ".join(p for p in help_parts if p),
                widget=forms.TextInput(attrs={"size": 60, "class": MONOSPACE}),
            )
        # Parameters first, the approval box last.
        fields["require_approval"] = self.fields.pop("require_approval")
        self.fields = fields
        if action.risk == Risk.HIGH:
            box = self.fields["require_approval"]
            box.initial = True
            box.disabled = True
            box.help_text = "This is a high-risk action: every run waits for an approver other than you."

    def parameters(self) -> dict[str, str]:
        return {
            d["name"]: self.cleaned_data.get(parameter_field_name(d["name"])) or ""
            for d in self.action.parameters
        }


class DecisionForm(forms.Form):
    """Approve, reject or cancel a run. `seen_status` is the status the user was looking at."""

    seen_status = forms.ChoiceField(choices=RunStatus.choices, widget=forms.HiddenInput, required=False)
    comment = forms.CharField(
        label="Comment",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Recorded with the decision and on the incident's timeline.",
    )

    def __init__(self, *args: Any, decision: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if decision == "reject":
            self.fields["comment"].required = True
            self.fields["comment"].label = "Why not"
            self.fields["comment"].help_text = "Tells the requester why; goes to the incident's timeline."
        elif decision == "cancel":
            del self.fields["comment"]
