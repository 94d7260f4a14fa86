from django.db import migrations

from common.groups import groups_sync


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0001_initial"),
        ("incidents", "0002_priorities_and_groups"),
    ]

    operations = [migrations.RunPython(groups_sync, migrations.RunPython.noop)]
