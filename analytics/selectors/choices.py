"""What the analytics filters can narrow to: the catalog's services, owner teams and priorities."""

from incidents.models import Priority, Service


def filter_choices() -> dict[str, list[tuple[str, str]]]:
    """`(value, label)` pairs for the service, team and priority filters, in display order."""
    teams = sorted({team for team in Service.objects.values_list("owner_team", flat=True) if team})
    return {
        "services": list(Service.objects.order_by("name").values_list("slug", "name")),
        "teams": [(team, team) for team in teams],
        "priorities": [
            (code, f"{code} {name}")
            for code, name in Priority.objects.order_by("code").values_list("code", "name")
        ],
    }
