from django.db import migrations

from common.groups import groups_sync


class Migration(migrations.Migration):
    """Viewers see drills; Responders start, cancel and write up drills; Admins manage scenarios."""

    dependencies = [("drills", "0001_initial")]

    operations = [migrations.RunPython(groups_sync, migrations.RunPython.noop)]
