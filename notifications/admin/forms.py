"""The notification admin's forms: write-only channel secrets, rule choices as boxes to tick, and
the template preview form. They collect input; notifications.services checks and saves it."""

from typing import Any

from django import forms

from common.forms import PrettyJSONField, ServiceErrorsMixin
from incidents.models import Incident
from notifications.choices import (
    RULE_KIND_CHOICES,
    Audience,
    ContactKind,
    RecipientRole,
)
from notifications.models import Channel, ContactMethod, MessageTemplate, NotificationRule
from notifications.selectors import preview_incidents

PREVIEW_INCIDENTS = 200
SECRET_HELP = {
    "slack_webhook": "the incoming webhook URL",
    "slack_bot": "the bot token (xoxb-…)",
    "teams": "the Workflows webhook URL",
    "email": "nothing (email channels need no secret)",
    "sms": "Twilio's ACCOUNT_SID:AUTH_TOKEN",
    "webhook": "the HMAC signing key",
    "apprise": "the apprise URL",
}


class ChannelAdminForm(ServiceErrorsMixin, forms.ModelForm):
    """The secret is write-only: its input starts empty whatever is stored, and blank keeps it."""

    config = PrettyJSONField(
        required=False,
        initial=dict,
        help_text='Settings that are not secret, as JSON: Slack bot {"channel": "#ops"}; email and SMS '
        '{"to": [...]} (SMS also "from_number"); webhook {"url": "https://..."}.',
    )
    new_secret = forms.CharField(
        label="Secret",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = Channel
        fields = ("name", "kind", "enabled", "config")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kinds = "; ".join(f"{kind}: {what}" for kind, what in SECRET_HELP.items())
        state = "Set (stored encrypted). Leave blank to keep it." if self.instance.secret else "Not set."
        self.fields["new_secret"].help_text = f"{state} What it is, by kind: {kinds}."

    def clean_config(self) -> dict:
        value = self.cleaned_data.get("config")
        return {} if value in (None, "") else value


def _comma_list(value: list[str]) -> str:
    return ", ".join(value or [])


class CommaListField(forms.CharField):
    """A list of names typed as "a, b, c"."""

    def prepare_value(self, value: Any) -> Any:
        return _comma_list(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:
        text = super().to_python(value) or ""
        return [part.strip() for part in text.split(",") if part.strip()]


class RuleAdminForm(ServiceErrorsMixin, forms.ModelForm):
    event_kinds = forms.MultipleChoiceField(
        choices=RULE_KIND_CHOICES, widget=forms.CheckboxSelectMultiple, required=False
    )
    roles = forms.MultipleChoiceField(
        choices=RecipientRole.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    contact_kinds = forms.MultipleChoiceField(
        choices=ContactKind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Which of a person's contact methods to use; none ticked means email.",
    )
    teams = CommaListField(
        required=False, help_text="Owner teams of the incident's services, comma separated; empty: any."
    )

    class Meta:
        model = NotificationRule
        fields = (
            "name",
            "position",
            "enabled",
            "event_kinds",
            "priorities",
            "services",
            "teams",
            "channels",
            "users",
            "groups",
            "roles",
            "contact_kinds",
            "stop",
            "bundle_seconds",
            "create_incident_channel",
        )


class MessageTemplateAdminForm(ServiceErrorsMixin, forms.ModelForm):
    # Not saved: the "Preview" button renders what is typed against this incident.
    incident = forms.ModelChoiceField(
        queryset=Incident.objects.none(),
        required=False,
        label="Preview against",
        empty_label="(no incident)",
        help_text="An incident to render the preview with (the Preview button; nothing is saved).",
    )

    class Meta:
        model = MessageTemplate
        fields = ("event_kind", "audience", "subject", "body")
        widgets = {"body": forms.Textarea(attrs={"rows": 14, "cols": 90})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["incident"].queryset = preview_incidents(PREVIEW_INCIDENTS)


class TemplatePreviewForm(forms.Form):
    """A template as typed (saved or not), rendered against a real incident."""

    event_kind = forms.ChoiceField(choices=RULE_KIND_CHOICES)
    audience = forms.ChoiceField(choices=Audience.choices, required=False)
    subject = forms.CharField(max_length=200, strip=False)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 14, "cols": 90}), strip=False)
    incident = forms.ModelChoiceField(
        queryset=Incident.objects.none(),
        required=False,
        empty_label="(no incident: a message without one)",
        help_text=f"One of the {PREVIEW_INCIDENTS} newest incidents.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["incident"].queryset = preview_incidents(PREVIEW_INCIDENTS)


class ContactMethodAdminForm(ServiceErrorsMixin, forms.ModelForm):
    # Empty means 0 (use it at once), so a form that leaves it out keeps working.
    page_delay_minutes = forms.IntegerField(
        required=False,
        initial=0,
        min_value=0,
        max_value=24 * 60,
        help_text=ContactMethod._meta.get_field("page_delay_minutes").help_text,
    )

    class Meta:
        model = ContactMethod
        fields = ("user", "kind", "address", "enabled", "page_delay_minutes")
