"""Runs an automated response requested before ActionRun.automated existed are marked automated,
so the closed loop keeps weighing them. Lives here, not in actions: only alerts knows its link."""

from django.db import migrations


def mark_automated(apps, schema_editor):
    ActionRun = apps.get_model("actions", "ActionRun")
    TriggeredRun = apps.get_model("alerts", "TriggeredRun")
    run_ids = TriggeredRun.objects.filter(run__isnull=False).values("run_id")
    ActionRun.objects.filter(pk__in=run_ids).update(automated=True)


class Migration(migrations.Migration):
    dependencies = [
        ("actions", "0005_run_context_automated"),
        ("alerts", "0006_alert_processing_failures_and_replays"),
    ]

    operations = [migrations.RunPython(mark_automated, migrations.RunPython.noop)]
