from django.db import migrations

from common.groups import groups_sync


class Migration(migrations.Migration):
    """Viewers see schedules and pages; Responders take over shifts and acknowledge; Admins run it all."""

    dependencies = [
        ("oncall", "0001_initial"),
        ("notifications", "0005_paging"),
    ]

    operations = [migrations.RunPython(groups_sync, migrations.RunPython.noop)]
