"""Admin forms for alerts. They collect and shape input; alerts.services decides and writes."""

import json
from typing import Any

from django import forms
from django.contrib.admin.widgets import AdminBigIntegerFieldWidget
from django.contrib.auth import get_user_model
from django.forms.models import construct_instance
from django.utils.html import escape

from alerts.admin.base import LabelListField, MatchersField
from alerts.choices import SourceKind
from alerts.models import AlertRule, AlertSource, AutomatedResponse, Silence
from alerts.services.rules import RULE_FIELDS
from common.forms import PrettyJSONField, ServiceErrorsMixin, ServiceRowsFormSet
from incidents.models import Priority


class AlertSourceAdminForm(ServiceErrorsMixin, forms.ModelForm):
    """The token is never a field: the service makes it. The HMAC secret is write-only: a blank
    input keeps what is stored."""

    new_hmac_secret = forms.CharField(
        label="HMAC secret",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Grafana signs each body with it (X-Grafana-Alerting-Signature). Stored encrypted and "
        "never shown again; leave blank to keep the stored one.",
    )
    clear_hmac_secret = forms.BooleanField(
        label="Clear the HMAC secret", required=False, help_text="Stop checking signatures."
    )

    class Meta:
        model = AlertSource
        fields = (
            "name",
            "slug",
            "kind",
            "default_service",
            "rate_limit_per_minute",
            "max_body_bytes",
            "max_labels",
            "max_label_name_length",
            "max_label_value_length",
            "max_annotation_value_length",
            "enabled",
            "is_drill",
        )
        # The admin's integer box fits six digits: 1048576 would show as 104857.
        widgets = {"max_body_bytes": AdminBigIntegerFieldWidget}
        help_texts = {"max_body_bytes": "In bytes (1048576 is 1 MiB); larger bodies get 413."}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:
            self.fields["slug"].required = False
            # The admin shows help text as HTML: unescaped, <slug> would vanish as an unknown tag.
            self.fields["slug"].help_text = escape(
                "Used in /hooks/<slug>/ with a bearer token; blank: from the name."
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("new_hmac_secret") and cleaned.get("clear_hmac_secret"):
            self.add_error("clear_hmac_secret", "Either type a new secret or clear it, not both.")
        return cleaned

    def secret_changes(self) -> dict[str, str]:
        """The `hmac_secret` entry for the service: a new secret, an empty one, or none (keep)."""
        if self.cleaned_data.get("new_hmac_secret"):
            return {"hmac_secret": self.cleaned_data["new_hmac_secret"]}
        if self.cleaned_data.get("clear_hmac_secret"):
            return {"hmac_secret": ""}
        return {}


class AlertRuleAdminForm(ServiceErrorsMixin, forms.ModelForm):
    matchers = MatchersField(required=False, label="Label matchers")
    group_by = LabelListField(
        label="Group by",
        help_text="Label names, comma-separated, e.g. alertname, service: alerts with the same values "
        "join one incident (policy attach).",
    )

    class Meta:
        model = AlertRule
        fields = RULE_FIELDS  # Everything alert_rule_save takes.


class AutomatedResponseForm(ServiceErrorsMixin, forms.ModelForm):
    parameters = PrettyJSONField(
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 3, "cols": 40, "spellcheck": "false", "class": "mitigate-monospace"}
        ),
        help_text='Action parameter -> template, e.g. {"host": "{{ alert.labels.instance }}"}. '
        "A parameter filled from the alert must declare an allow-list pattern on the action.",
    )

    class Meta:
        model = AutomatedResponse
        fields = ("order", "action", "trigger", "delay_seconds", "parameters", "enabled")

    def clean_parameters(self) -> Any:
        value = self.cleaned_data.get("parameters")
        return {} if value is None else value

    def _post_clean(self) -> None:
        # alert_rule_save validates every response with the rule as a whole; its errors come back
        # onto these rows (see rules.py), so there is one set of checks, not two.
        self.instance = construct_instance(self, self.instance, self._meta.fields, self._meta.exclude)

    def response_spec(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {f: data[f] for f in ("action", "trigger", "delay_seconds", "parameters", "enabled")}


class AutomatedResponseFormSet(ServiceRowsFormSet):
    """A rule's responses, saved by alert_rule_save."""


class SilenceAdminForm(ServiceErrorsMixin, forms.ModelForm):
    matchers = MatchersField(label="Label matchers")

    class Meta:
        model = Silence
        fields = ("matchers", "starts_at", "ends_at", "reason")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class RuleTestForm(forms.Form):
    """A payload to run through the parser, silences and rules without storing anything."""

    source = forms.ModelChoiceField(
        queryset=AlertSource.objects.order_by("name"),
        required=False,
        empty_label="(none)",
        help_text="Optional: its default service applies, and open alerts of it are recognised as repeats.",
    )
    kind = forms.ChoiceField(
        label="Payload format",
        choices=[("", "(the source's)"), *SourceKind.choices],
        required=False,
    )
    payload = forms.CharField(
        label="Payload (JSON)",
        strip=False,
        widget=forms.Textarea(
            attrs={"rows": 18, "cols": 90, "spellcheck": "false", "class": "mitigate-monospace"}
        ),
        help_text="The request body the monitoring system would post.",
    )

    def clean_payload(self) -> Any:
        text = self.cleaned_data["payload"]
        try:
            return json.loads(text, parse_constant=_reject_constant)
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}.") from exc

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        source = cleaned.get("source")
        if not cleaned.get("kind"):
            if source is None:
                self.add_error("kind", "Choose a payload format, or a source to take it from.")
            else:
                cleaned["kind"] = source.kind
        return cleaned


class AlertIncidentForm(forms.Form):
    """Create incident from alert: starts from what the alert gives (alerts.incident_prefill); the
    responder may change these four before alert_incident_create opens the incident."""

    title = forms.CharField(max_length=200)
    priority = forms.ModelChoiceField(queryset=Priority.objects.order_by("code"), empty_label=None)
    assignee = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        required=False,
        help_text="Leave empty to let whoever acknowledges take it.",
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 10, "cols": 80}))
