from django.db import migrations

from common.groups import groups_sync


class Migration(migrations.Migration):
    """Viewers and Responders see who was told what; Responders resend; Admins run the channels."""

    dependencies = [
        ("notifications", "0003_target_key_digest"),
        ("incidents", "0002_priorities_and_groups"),
    ]

    operations = [migrations.RunPython(groups_sync, migrations.RunPython.noop)]
