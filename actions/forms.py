"""Admin forms for actions. They collect and shape input; actions.services decides and writes."""

import json
from typing import Any

from django import forms
from django.core import signing
from django.forms.models import BaseInlineFormSet
from django.utils.html import format_html

from actions.choices import ProviderKind, Risk, RunStatus, TargetKind
from actions.models import Action, ActionStep, Provider, ProviderGroup
from actions.parameters import MAX_VALUE_LENGTH

MONOSPACE = "mitigate-monospace"
SECRET_INPUTS = {"private_key": "new_private_key", "passphrase": "new_passphrase", "password": "new_password"}
SECRET_LABELS = {"private_key": "private key", "passphrase": "key passphrase", "password": "password"}

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


class ServiceErrorsMixin:
    """Errors a service raised on a first attempt to save, shown on the form rendered again.

    The admin catches the service's refusal (the transaction is rolled back: nothing was written)
    and renders the submitted forms once more with these errors attached (see actions.admin.base)."""

    service_errors: dict[str | None, list[str]] = {}

    def __init__(self, *args: Any, service_errors: dict[str | None, list[str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if service_errors is not None:
            self.service_errors = service_errors

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for field, messages in self.service_errors.items():
            if field in self.fields:
                self.add_error(field, messages)
            else:
                label = f"{field.replace('_', ' ').capitalize()}: " if field else ""
                self.add_error(None, [label + m for m in messages])
        return cleaned


class TagsField(forms.CharField):
    """A list of tags typed as comma-separated words."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "Comma-separated, e.g. web, eu-west, production.")
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return value

    def to_python(self, value: Any) -> list[str]:
        if isinstance(value, list | tuple):
            return [str(v).strip() for v in value if str(v).strip()]
        text = super().to_python(value)
        return sorted({t.strip() for t in text.split(",") if t.strip()})

    def has_changed(self, initial: Any, data: Any) -> bool:
        return sorted(initial or []) != self.to_python(data)


class PrettyJSONField(forms.JSONField):
    """JSON shown indented, so a list of parameter declarations reads one key a line."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False)


class WriteOnlyTextarea(forms.Textarea):
    """A textarea that never renders a value: what is stored stays on the server."""

    def format_value(self, value: Any) -> None:
        return None


def _secret_input(label: str, *, textarea: bool = False) -> forms.CharField:
    if textarea:
        widget: forms.Widget = WriteOnlyTextarea(
            attrs={"rows": 5, "cols": 70, "autocomplete": "off", "spellcheck": "false", "class": MONOSPACE}
        )
    else:
        widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
    return forms.CharField(label=label, required=False, strip=False, widget=widget)


# --- Providers -------------------------------------------------------------------------------------


class ProviderAdminForm(ServiceErrorsMixin, forms.ModelForm):
    """Secrets are write-only: the inputs start empty whatever is stored; blank keeps the stored
    value, a new value replaces it, and the "clear" box removes it."""

    new_private_key = _secret_input("Private key", textarea=True)
    clear_private_key = forms.BooleanField(label="Clear the stored private key", required=False)
    new_passphrase = _secret_input("Key passphrase")
    clear_passphrase = forms.BooleanField(label="Clear the stored passphrase", required=False)
    new_password = _secret_input("Password")
    clear_password = forms.BooleanField(label="Clear the stored password", required=False)
    tags = TagsField()

    class Meta:
        model = Provider
        fields = (
            "name",
            "kind",
            "enabled",
            "tags",
            "address",
            "port",
            "username",
            "connect_timeout",
            "use_sudo",
            "auth_method",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stored = self.instance
        for secret, field_name in SECRET_INPUTS.items():
            field = self.fields.get(field_name)
            if field is None:
                continue
            if getattr(stored, secret, ""):
                field.help_text = (
                    f"Set (stored encrypted). Leave blank to keep it, or type a new {SECRET_LABELS[secret]}."
                )
            else:
                field.help_text = "Not set."
        if "new_private_key" in self.fields:
            self.fields["new_private_key"].help_text += " OpenSSH or PEM; Ed25519, ECDSA or RSA."

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for secret, field_name in SECRET_INPUTS.items():
            if cleaned.get(field_name) and cleaned.get(f"clear_{secret}"):
                self.add_error(field_name, f"Type a new {SECRET_LABELS[secret]} or clear it, not both.")
        return cleaned

    def secret_changes(self) -> dict[str, str]:
        """The secrets to change, for provider_save: a new value, or "" to clear one."""
        changes = {}
        for secret, field_name in SECRET_INPUTS.items():
            value = self.cleaned_data.get(field_name) or ""
            if secret == "private_key" and value.strip():
                value = value.strip() + "\n"
            if value.strip():
                changes[secret] = value
            elif self.cleaned_data.get(f"clear_{secret}"):
                changes[secret] = ""
        return changes


class ProviderGroupAdminForm(ServiceErrorsMixin, forms.ModelForm):
    tag_selector = TagsField(
        label="Tag selector",
        help_text="Providers carrying every one of these tags belong to the group too. Comma-separated.",
    )

    class Meta:
        model = ProviderGroup
        fields = ("name", "description", "providers", "tag_selector", "max_parallel")


class HostKeyPinForm(forms.Form):
    """The fetched key travels through the confirmation page signed, so what is pinned is exactly
    what was fetched and shown."""

    SALT = "actions.provider.host_key"
    MAX_AGE_SECONDS = 600

    token = forms.CharField(widget=forms.HiddenInput)

    @classmethod
    def sign(cls, provider: Provider, host_key: str) -> str:
        return signing.dumps({"provider": provider.pk, "host_key": host_key}, salt=cls.SALT)

    def host_key_for(self, provider: Provider) -> str | None:
        try:
            data = signing.loads(self.cleaned_data["token"], salt=self.SALT, max_age=self.MAX_AGE_SECONDS)
        except signing.BadSignature:
            return None
        if data.get("provider") != provider.pk:
            return None
        return data.get("host_key")


# --- Actions and their steps -----------------------------------------------------------------------


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


# Steps of one admin page are sorted by the order typed; rows without one go last, as listed.
UNORDERED = 10**6


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


class ServiceRowsFormSet(BaseInlineFormSet):
    """Inline rows a service saves as a whole with their parent (an action's steps, a rule's
    responses). Never saved by the formset: the admin hands every row to the service, which
    replaces the rows or refuses them all; its refusal comes back onto the rows."""

    # Set by the admin when the service refused a first attempt: {form index: {field: [messages]}}.
    service_step_errors: dict[int, dict[str | None, list[str]]] = {}
    service_non_form_errors: list[str] = []

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        kwargs = super().get_form_kwargs(index)
        if index is not None and index in self.service_step_errors:
            kwargs["service_errors"] = self.service_step_errors[index]
        return kwargs

    def _construct_form(self, i: int, **kwargs: Any) -> forms.Form:
        form = super()._construct_form(i, **kwargs)
        if i >= self.initial_form_count():
            form.initial.setdefault("order", (i + 1) * 10)
        return form

    def clean(self) -> None:
        super().clean()
        if self.service_non_form_errors:
            raise forms.ValidationError(self.service_non_form_errors)

    def submitted_rows(self) -> list[tuple[int, forms.Form]]:
        """(form index, form) of the rows kept, by the order typed (rows without one last)."""
        rows = []
        for index, form in enumerate(self.forms):
            if self.can_delete and self._should_delete_form(form):
                continue
            if form.instance.pk is None and not form.has_changed():
                continue
            order = form.cleaned_data.get("order")
            rows.append((UNORDERED if order is None else order, index, form))
        rows.sort(key=lambda row: (row[0], row[1]))
        return [(index, form) for _, index, form in rows]


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


# --- Running actions -------------------------------------------------------------------------------


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


def is_local(provider: Provider) -> bool:
    return provider.kind == ProviderKind.LOCAL
