from actions.models.action import Action, ActionStep
from actions.models.capture import ServiceCapture
from actions.models.provider import Provider, ProviderGroup
from actions.models.run import ActionRun, StepRun
from actions.models.runbook import Runbook, RunbookStep, RunbookVersion

__all__ = [
    "Action",
    "ActionRun",
    "ActionStep",
    "Provider",
    "ProviderGroup",
    "Runbook",
    "RunbookStep",
    "RunbookVersion",
    "ServiceCapture",
    "StepRun",
]
