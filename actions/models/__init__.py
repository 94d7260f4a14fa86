from actions.models.action import Action, ActionStep
from actions.models.provider import Provider, ProviderGroup
from actions.models.run import ActionRun, StepRun

__all__ = ["Action", "ActionRun", "ActionStep", "Provider", "ProviderGroup", "StepRun"]
