from datetime import timedelta

from django.db import migrations, models
from django.db.models import Q


def mark_existing(apps, schema_editor) -> None:
    """Mark the incidents already there, with the rule of incidents.services.repeats: in one
    statement on PostgreSQL, one incident at a time elsewhere (small embedded databases)."""
    if schema_editor.connection.vendor == "postgresql":
        from incidents.services.repeats import incidents_repeat_backfill_postgres

        incidents_repeat_backfill_postgres(connection=schema_editor.connection)
        return
    Incident = apps.get_model("incidents", "Incident")
    Alert = apps.get_model("alerts", "Alert")
    for incident in Incident.objects.filter(is_drill=False).order_by("detected_at").iterator():
        same = Q(
            pk__in=Alert.objects.filter(
                name__in=Alert.objects.filter(incident=incident).exclude(name="").values("name")
            ).values("incident_id")
        )
        if incident.root_cause_category:
            same |= Q(root_cause_category=incident.root_cause_category)
        repeat = (
            Incident.objects.filter(
                same,
                detected_at__lt=incident.detected_at,
                detected_at__gte=incident.detected_at - timedelta(days=30),
                services__in=incident.services.values("pk"),
                is_drill=False,
            )
            .exclude(pk=incident.pk)
            .exists()
        )
        if repeat:
            Incident.objects.filter(pk=incident.pk).update(is_repeat=True)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0005_service_owner_email_and_postmortem_events"),
        ("alerts", "0004_processing_and_responses"),
    ]

    operations = [
        migrations.AddField(
            model_name="incident", name="is_repeat", field=models.BooleanField(default=False)
        ),
        migrations.RunPython(mark_existing, migrations.RunPython.noop),
    ]
