"""More reads for the configuration admin and API, beside oncall/selectors.py: layers, steps, and
policies and pages with what their pages show (link rows, steps run), so lists run a constant
number of queries."""

from django.db.models import Prefetch, QuerySet

from oncall.models import (
    EscalationPolicy,
    EscalationStep,
    Layer,
    LayerMember,
    Page,
    PageStep,
    PolicyAlertRule,
    PolicyService,
)


def layer_list() -> QuerySet[Layer]:
    members = LayerMember.objects.select_related("user").order_by("position")
    return Layer.objects.select_related("schedule").prefetch_related(Prefetch("members", queryset=members))


def step_list() -> QuerySet[EscalationStep]:
    return EscalationStep.objects.prefetch_related("users", "schedules", "channels").order_by("position")


def policy_list_with_links() -> QuerySet[EscalationPolicy]:
    """Policies with their steps (and the steps' targets) and their link rows (services, rules)."""
    return EscalationPolicy.objects.prefetch_related(
        Prefetch("steps", queryset=step_list()),
        Prefetch("service_links", queryset=PolicyService.objects.select_related("service")),
        Prefetch("rule_links", queryset=PolicyAlertRule.objects.select_related("rule")),
    )


def page_list_with_steps() -> QuerySet[Page]:
    return Page.objects.select_related(
        "incident", "incident__priority", "policy", "ended_by"
    ).prefetch_related(Prefetch("steps", queryset=PageStep.objects.order_by("loop", "position")))
