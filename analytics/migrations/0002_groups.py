from django.db import migrations

from common.groups import groups_sync


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0001_reports"),
        ("incidents", "0002_priorities_and_groups"),
    ]

    operations = [migrations.RunPython(groups_sync, migrations.RunPython.noop)]
