"""Reads for subscribers: the admin's and the API's list, the subscribe form's components."""

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from statuspage.models import Component, Subscriber


def subscriber_list() -> QuerySet[Subscriber]:
    """Every subscriber with its chosen components, in two queries whatever the count. The webhook's
    URL and secret are left unread: lists never show them (nor decrypt them)."""
    components = Component.objects.only("id", "name", "order").order_by("order", "name")
    return (
        Subscriber.objects.defer("webhook_url", "webhook_secret")
        .prefetch_related(Prefetch("components", queryset=components))
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class ComponentChoices:
    group: str  # "" for components outside any group
    components: list[Component]


def subscribable_components() -> list[ComponentChoices]:
    """The page's shown components by group, in the page's order: what the form offers."""
    shown = (
        Component.objects.filter(shown=True)
        .select_related("group")
        .order_by("group__order", "group__name", "order", "name")
    )
    groups: dict[str, list[Component]] = {}
    for component in shown:
        groups.setdefault(component.group.name if component.group else "", []).append(component)
    # Ungrouped components first, as the page lists them above the groups.
    ordered = sorted(groups.items(), key=lambda item: item[0] != "")
    return [ComponentChoices(group=name, components=items) for name, items in ordered]


def shown_components(ids: list[int]) -> list[Component]:
    return list(Component.objects.filter(shown=True, pk__in=ids).order_by("pk"))
