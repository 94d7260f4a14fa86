"""The monthly incident report every installation starts with: previous month, sent on the first
of the month at 07:00 (TIME_ZONE). No recipients until an admin adds them; until then each run is
recorded as failed with the reason."""

import json

from django.conf import settings
from django.db import migrations
from django.utils import timezone

NAME = "Monthly incident report"
PARAMETERS = {
    "range": "previous_month",
    "group_by": "priority",
    "metrics": ["summary", "grouped", "trends", "root_causes", "action_items", "recommendations"],
    "filters": {
        "services": [],
        "service_types": [],
        "teams": [],
        "priorities": [],
        "root_causes": [],
        "include_drills": False,
    },
}


def create(apps, schema_editor):
    Report = apps.get_model("analytics", "Report")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    if Report.objects.filter(name=NAME).exists():
        return
    report = Report.objects.create(name=NAME, type="incident_summary", parameters=PARAMETERS, enabled=True)
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour="7",
        day_of_month="1",
        month_of_year="*",
        day_of_week="*",
        timezone=settings.TIME_ZONE,
    )
    report.schedule = PeriodicTask.objects.create(
        name=f"Report #{report.pk}: {NAME}",
        task="analytics.tasks.send_scheduled_report",
        crontab=crontab,
        args=json.dumps([report.pk]),
        kwargs="{}",
        enabled=True,
        description=f"Sends the analytics report {NAME!r} for its period.",
    )
    report.save(update_fields=["schedule"])
    # Historical models send no signals: tell a running beat that its schedule changed.
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove(apps, schema_editor):
    Report = apps.get_model("analytics", "Report")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for report in Report.objects.filter(name=NAME):
        if report.schedule_id:
            PeriodicTask.objects.filter(pk=report.schedule_id).delete()
        report.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0002_groups"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
