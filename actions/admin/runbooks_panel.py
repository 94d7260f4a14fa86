"""The incident page's "Runbooks" panel: the runbooks of its services (and, given by the app that
knows them, of its alert rules), steps as safe Markdown, each step with an action getting a
"Run <action>" link to the run form with the parameters its mapping fills from the incident.

alerts subclasses the inline (alerts.admin.runbooks) to add its rules' runbooks and `alert.*` to the
mapping's context, and registers it: actions knows nothing of alerts (the floors of DESIGN.md)."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse
from django.utils.safestring import SafeString

from actions.forms.runs import parameter_field_name
from actions.markdown import markdown_html
from actions.models import ActionRun, Runbook, RunbookStep
from actions.models.run import RUN_PERMISSION
from actions.selectors import runbooks_for_incident
from actions.templating import TemplateError, render_value
from common.admin.panel import PanelInline
from incidents.choices import IncidentStatus
from incidents.models import Incident


@dataclass(frozen=True)
class PanelStep:
    position: int
    html: SafeString
    action_name: str
    run_url: str


@dataclass(frozen=True)
class PanelRunbook:
    runbook: Runbook
    summary_html: SafeString
    steps: list[PanelStep]
    url: str


def step_parameters(step: RunbookStep, context: dict[str, Any]) -> dict[str, str]:
    """The step's mapping rendered for this incident; a template naming what is not there (no alert,
    an absent label) is left out, and the run form shows the action's default instead."""
    values = {}
    for name, template in (step.parameters or {}).items():
        try:
            values[name] = render_value(template, context)
        except TemplateError:
            continue
    return values


def step_run_url(incident: Incident, step: RunbookStep, context: dict[str, Any]) -> str:
    query = {"incident": incident.pk, "action": step.action_id}
    query.update({parameter_field_name(k): v for k, v in step_parameters(step, context).items()})
    return reverse("admin:actions_action_run") + "?" + urlencode(query)


def incident_context(incident: Incident) -> dict[str, Any]:
    return {"incident": {"id": incident.pk, "reference": incident.reference, "title": incident.title}}


def runbooks_panel(
    *, request: HttpRequest, incident: Incident, runbooks: list[Runbook], context: dict[str, Any]
) -> list[PanelRunbook]:
    may_run = incident.status != IncidentStatus.CLOSED and request.user.has_perm(RUN_PERMISSION)
    return [
        PanelRunbook(
            runbook=runbook,
            summary_html=markdown_html(runbook.summary),
            url=reverse("admin:actions_runbook_change", args=[runbook.pk]),
            steps=[
                PanelStep(
                    position=step.position,
                    html=markdown_html(step.text),
                    action_name=step.action.name if step.action else "",
                    run_url=step_run_url(incident, step, context)
                    if may_run and step.action and step.action.enabled
                    else "",
                )
                for step in runbook.steps.all()
            ],
        )
        for runbook in runbooks
    ]


class IncidentRunbooksInline(PanelInline):
    """The panel with the services' runbooks and the incident alone as context. Subclasses add
    runbooks (`named_runbook_ids`) and context (`context_for`)."""

    model = ActionRun  # Any model with a foreign key to Incident: the panel shows no rows of it.
    fk_name = "incident"
    template = "admin/actions/incident_runbooks.html"
    verbose_name = "runbook"
    verbose_name_plural = "Runbooks"
    view_permission = "actions.view_runbook"

    def named_runbook_ids(self, incident: Incident) -> list[int]:
        return []

    def context_for(self, incident: Incident) -> dict[str, Any]:
        return incident_context(incident)

    def panel_for(self, request: HttpRequest, incident: Incident) -> list[PanelRunbook]:
        runbooks = runbooks_for_incident(
            incident_id=incident.pk, runbook_ids=self.named_runbook_ids(incident)
        )
        return runbooks_panel(
            request=request, incident=incident, runbooks=runbooks, context=self.context_for(incident)
        )
