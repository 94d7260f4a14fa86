"""Report definitions as the API lists them."""

from django.db.models import QuerySet

from analytics.models import Report


def report_list() -> QuerySet[Report]:
    """Every report with its crontab and recipients loaded, by name."""
    return (
        Report.objects.select_related("schedule__crontab")
        .prefetch_related("recipients")
        .order_by("name", "id")
    )
