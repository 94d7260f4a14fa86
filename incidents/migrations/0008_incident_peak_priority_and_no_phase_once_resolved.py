from django.db import migrations, models
from django.db.models import Min, OuterRef, Subquery

RESOLVED_OR_CLOSED = ("resolved", "closed")


def backfill(apps, schema_editor) -> None:
    """Resolved and closed incidents claim no work phase any more; every incident resolved at least
    once gets its peak priority: the most urgent code among its current one and those its
    priority changes went through after the first resolution (a P1 lowered to P3 after it was
    resolved is found again here)."""
    Incident = apps.get_model("incidents", "Incident")
    Priority = apps.get_model("incidents", "Priority")
    TimelineEvent = apps.get_model("incidents", "TimelineEvent")

    Incident.objects.filter(status__in=RESOLVED_OR_CLOSED).exclude(phase="").update(phase="")

    first_resolution = dict(
        TimelineEvent.objects.filter(kind__in=("resolved", "auto_resolved"))
        .values("incident_id")
        .annotate(first=Min("occurred_at"))
        .values_list("incident_id", "first")
    )
    current_code = Subquery(Priority.objects.filter(pk=OuterRef("priority_id")).values("code")[:1])
    # Closed without a resolution (dismissed) is left out: no post-mortem rule ever applied there.
    Incident.objects.filter(
        models.Q(pk__in=list(first_resolution)) | models.Q(status__in=RESOLVED_OR_CLOSED, dismissal_reason="")
    ).update(peak_priority=current_code)

    held: dict[int, set[str]] = {}
    changes = TimelineEvent.objects.filter(kind="priority_changed").values_list(
        "incident_id", "occurred_at", "details"
    )
    for incident_id, at, details in changes.iterator():
        first = first_resolution.get(incident_id)
        if first is None or at < first:
            continue
        codes = {details.get("from"), details.get("to")} if isinstance(details, dict) else set()
        held.setdefault(incident_id, set()).update(c for c in codes if isinstance(c, str) and c)
    for incident_id, codes in held.items():
        incident = Incident.objects.filter(pk=incident_id).values("peak_priority").first()
        if incident is None:
            continue
        peak = min(codes | ({incident["peak_priority"]} - {""}))
        Incident.objects.filter(pk=incident_id).update(peak_priority=peak)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0007_search_trigram_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="incident",
            name="peak_priority",
            field=models.CharField(blank=True, editable=False, max_length=2),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
