"""Which phase an incident may be in: triage phases while it is new (triage -> prioritized), work
phases once acknowledged (investigating -> identified -> fixing -> monitoring), none once resolved."""

from django.core.exceptions import ValidationError

from incidents.choices import PHASES_BY_STATUS, IncidentStatus, Phase


def phase_check(*, status: str, phase: str) -> None:
    """Refuse a phase the status does not allow (an empty phase is always allowed)."""
    if not phase:
        return
    allowed = PHASES_BY_STATUS.get(status, ())
    if phase in allowed:
        return
    if not allowed:
        raise ValidationError({"phase": ["The phase applies only while the incident is worked."]})
    if status == IncidentStatus.NEW:
        message = "A new incident is in triage or prioritized; the work phases start once it is acknowledged."
    else:
        message = "Triage phases apply only to a new incident; choose a work phase."
    raise ValidationError(
        {"phase": [f"{message} Allowed now: {', '.join(Phase(p).label.lower() for p in allowed)}."]}
    )
