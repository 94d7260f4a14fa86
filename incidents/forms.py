"""Admin forms. They collect and shape input; incidents.services decides and writes."""

from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from incidents.choices import PHASES_BY_STATUS, DismissalReason, IncidentStatus, Role
from incidents.models import Incident, StatusUpdate

# Response roles kept in RoleAssignment, edited on the incident form next to Incident.commander.
ROLE_FIELDS = {
    "technical_lead": Role.TECHNICAL_LEAD,
    "communications_lead": Role.COMMUNICATIONS_LEAD,
    "scribe": Role.SCRIBE,
}
CHANGE_ONLY_FIELDS = tuple(ROLE_FIELDS)

PRIORITY_RULES_HELP = (
    "Mitigate suggests a priority from the impact, following the runbook: "
    "<b>P1</b> when all users are affected, more than 3 services are down, or it is a security issue; "
    "<b>P2</b> when many users are affected, more than one service is down, or data is at risk; "
    "<b>P3</b> when some users are affected or one service is down; <b>P4</b> otherwise. "
    "The suggestion is shown on the incident page once it is open; you choose the priority."
)
IMPACT_HELP = {
    "users_affected": "All users suggests P1, many P2, some P3.",
    "services_down": "More than 3 suggests P1, 2 or 3 suggest P2, 1 suggests P3.",
    "data_at_risk": "Suggests at least P2.",
    "security_issue": "Suggests P1.",
}


def phase_choices_limit(field: forms.Field, status: str) -> None:
    """Offer the phases the status allows: triage ones while new, work ones while worked."""
    allowed = PHASES_BY_STATUS.get(status)
    if allowed:
        field.choices = [("", "---------"), *((p.value, p.label) for p in allowed)]


def _user_choices():
    return get_user_model().objects.order_by("username")


class IncidentAdminForm(forms.ModelForm):
    """The add and change form. Roles other than commander are extra fields that the admin saves
    through incident_role_assign; they appear on change only. Notes have their own quick form
    (incidents.admin.quick_forms)."""

    technical_lead = forms.ModelChoiceField(queryset=_user_choices(), required=False)
    communications_lead = forms.ModelChoiceField(queryset=_user_choices(), required=False)
    scribe = forms.ModelChoiceField(queryset=_user_choices(), required=False)

    bridge_url = forms.URLField(
        label="Bridge URL",
        required=False,
        max_length=200,
        assume_scheme="https",
        help_text="The war room: the call or chat where responders meet; shown in notifications.",
    )

    # Errors the services raised on a first attempt to save; shown on the re-rendered form.
    service_errors: dict[str | None, list[str]] = {}

    class Meta:
        model = Incident
        # The admin narrows this per page with its fieldsets.
        fields = (
            "title",
            "description",
            "priority",
            "services",
            "phase",
            "users_affected",
            "services_down",
            "data_at_risk",
            "security_issue",
            "root_cause_category",
            "is_drill",
            "assignee",
            "commander",
            "detected_at",
            "started_at",
            "bridge_url",
        )
        help_texts = {
            "started_at": "When the impact began; leave empty when it began at detection.",
            **IMPACT_HELP,
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance._state.adding:
            for name in CHANGE_ONLY_FIELDS:
                self.fields.pop(name, None)
            if "started_at" in self.fields:
                self.fields["started_at"].required = False
        else:
            if (
                self.instance.status in (IncidentStatus.RESOLVED, IncidentStatus.CLOSED)
                and "phase" in self.fields
            ):
                # Cleared at resolution; a page opened while it was worked must not post it back.
                self.fields["phase"].disabled = True
                self.fields[
                    "phase"
                ].help_text = "None once resolved: the work is over (reopening restarts it)."
            elif "phase" in self.fields:
                phase_choices_limit(self.fields["phase"], self.instance.status)
                self.fields["phase"].help_text = (
                    "Triage, then prioritized while new; investigating, identified, fixing, "
                    "monitoring once acknowledged."
                )
            for assignment in self.instance.role_assignments.all():
                for name, role in ROLE_FIELDS.items():
                    if assignment.role == role and name in self.fields:
                        self.initial[name] = assignment.user_id

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        started_at = cleaned.get("started_at")
        detected_at = cleaned.get("detected_at") or self.instance.detected_at
        if started_at and detected_at and started_at > detected_at:
            self.add_error("started_at", "The impact cannot begin after it was detected.")
        for field, messages in self.service_errors.items():
            if field in self.fields:
                self.add_error(field, messages)
            else:
                self.add_error(None, [_labelled(field, m) for m in messages])
        return cleaned


def _labelled(field: str | None, message: str) -> str:
    if not field:
        return message
    try:
        label = Incident._meta.get_field(field).verbose_name
    except Exception:
        label = field.replace("_", " ")
    return f"{str(label).capitalize()}: {message}"


class StatusUpdateForm(forms.ModelForm):
    class Meta:
        model = StatusUpdate
        fields = ("message", "visibility", "phase")
        widgets = {"message": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "visibility": "Public updates reach stakeholders and the status page.",
            "phase": "Moves the incident to this phase: a triage phase while it is new, a work "
            "phase while it is worked.",
        }


class TransitionForm(forms.Form):
    """Input for one transition. `seen_status` is the status the user was looking at, so a change
    someone else made meanwhile is reported instead of being built upon."""

    seen_status = forms.ChoiceField(choices=IncidentStatus.choices, widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, incident: Incident, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.incident = incident

    @classmethod
    def needs_input(cls) -> bool:
        return any(not field.widget.is_hidden for field in cls.base_fields.values())

    def service_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for the transition's service, beyond incident and by."""
        return {}


def _text(label: str, help_text: str = "", required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
    )


class HoldForm(TransitionForm):
    reason = _text("Reason", "What the work is waiting for, e.g. a vendor or a maintenance window.")

    def service_kwargs(self) -> dict[str, Any]:
        return {"reason": self.cleaned_data["reason"]}


class ResolveForm(TransitionForm):
    summary = _text("Resolution summary", "What fixed it. Goes to the timeline and the post-mortem.")

    def service_kwargs(self) -> dict[str, Any]:
        return {"summary": self.cleaned_data["summary"]}


class ReopenForm(TransitionForm):
    reason = _text("Reason", "Why the incident is not over, e.g. the errors came back.")

    def service_kwargs(self) -> dict[str, Any]:
        return {"reason": self.cleaned_data["reason"]}


class CloseForm(TransitionForm):
    note = _text("Closing note", "Optional.", required=False)

    def service_kwargs(self) -> dict[str, Any]:
        return {"note": self.cleaned_data["note"]}


class DismissForm(TransitionForm):
    dismissal_reason = forms.ChoiceField(
        label="Dismiss as",
        choices=DismissalReason.choices,
        initial=DismissalReason.FALSE_ALARM,
        widget=forms.RadioSelect,
    )
    duplicate_of = forms.CharField(
        label="Duplicate of",
        required=False,
        max_length=20,
        help_text="For a duplicate: the reference of the incident it duplicates, e.g. INC-2025-0042.",
    )
    reason = _text("Reason", "Why no work is needed.")

    def clean_duplicate_of(self) -> Incident | None:
        reference = self.cleaned_data["duplicate_of"].strip()
        if not reference:
            return None
        duplicate = Incident.objects.filter(reference__iexact=reference).first()
        if duplicate is None:
            raise forms.ValidationError(f"There is no incident {reference}.")
        return duplicate

    def service_kwargs(self) -> dict[str, Any]:
        return {
            "reason": self.cleaned_data["reason"],
            "dismissal_reason": self.cleaned_data["dismissal_reason"],
            "duplicate_of": self.cleaned_data["duplicate_of"],
        }


TRANSITION_FORMS: dict[str, type[TransitionForm]] = {
    "acknowledge": TransitionForm,
    "hold": HoldForm,
    "resume": TransitionForm,
    "resolve": ResolveForm,
    "reopen": ReopenForm,
    "close": CloseForm,
    "dismiss": DismissForm,
}
