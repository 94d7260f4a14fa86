"""Reads for the configuration admin and API: each list's queryset with its joins and prefetches
already applied, so both run a constant number of queries. (oncall/selectors.py holds the
schedule math reads: who is on call, shifts.)"""

from django.db.models import Prefetch, QuerySet

from oncall.models import (
    EscalationPolicy,
    EscalationStep,
    Layer,
    LayerMember,
    Override,
    Page,
    PageStep,
    PolicyAlertRule,
    PolicyService,
    Schedule,
)


def layer_list() -> QuerySet[Layer]:
    members = LayerMember.objects.select_related("user").order_by("position")
    return Layer.objects.select_related("schedule").prefetch_related(Prefetch("members", queryset=members))


def schedule_list() -> QuerySet[Schedule]:
    layers = layer_list().order_by("-level", "id")
    return Schedule.objects.prefetch_related(Prefetch("layers", queryset=layers))


def override_list() -> QuerySet[Override]:
    return Override.objects.select_related("schedule", "user", "replaces", "created_by")


def step_list() -> QuerySet[EscalationStep]:
    return EscalationStep.objects.prefetch_related("users", "schedules", "channels").order_by("position")


def policy_list() -> QuerySet[EscalationPolicy]:
    return EscalationPolicy.objects.prefetch_related(
        Prefetch("steps", queryset=step_list()),
        Prefetch("service_links", queryset=PolicyService.objects.select_related("service")),
        Prefetch("rule_links", queryset=PolicyAlertRule.objects.select_related("rule")),
    )


def page_list() -> QuerySet[Page]:
    return Page.objects.select_related(
        "incident", "incident__priority", "policy", "ended_by"
    ).prefetch_related(Prefetch("steps", queryset=PageStep.objects.order_by("loop", "position")))
