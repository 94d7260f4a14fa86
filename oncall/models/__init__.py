from oncall.models.feed import CalendarFeed
from oncall.models.page import Page, PageStep
from oncall.models.policy import EscalationPolicy, EscalationStep, PolicyAlertRule, PolicyService
from oncall.models.schedule import Layer, LayerMember, Override, Schedule

__all__ = [
    "CalendarFeed",
    "EscalationPolicy",
    "EscalationStep",
    "Layer",
    "LayerMember",
    "Override",
    "Page",
    "PageStep",
    "PolicyAlertRule",
    "PolicyService",
    "Schedule",
]
