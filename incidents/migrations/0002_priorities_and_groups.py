from datetime import timedelta

from django.db import migrations

from common.groups import groups_sync

PRIORITIES = [
    ("P1", "Critical", "Complete outage or security incident affecting all users.",
     timedelta(minutes=15), timedelta(hours=4), timedelta(minutes=30)),
    ("P2", "High", "Major functionality impaired; many users affected or data at risk.",
     timedelta(minutes=30), timedelta(hours=8), timedelta(hours=2)),
    ("P3", "Medium", "Minor functionality affected; some users impacted, a workaround exists.",
     timedelta(hours=2), timedelta(days=3), timedelta(hours=4)),
    ("P4", "Low", "Minimal impact: few users, cosmetic issues.",
     timedelta(hours=8), timedelta(days=5), timedelta(hours=24)),
    ("P5", "Informational", "No user impact; tracked for awareness, best effort.", None, None, None),
]


def seed_priorities(apps, schema_editor):
    Priority = apps.get_model("incidents", "Priority")
    for code, name, description, response, resolution, update in PRIORITIES:
        Priority.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "description": description,
                "response_target": response,
                "resolution_target": resolution,
                "update_interval": update,
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(seed_priorities, migrations.RunPython.noop),
        migrations.RunPython(groups_sync, migrations.RunPython.noop),
    ]
