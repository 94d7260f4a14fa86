from django.db import migrations

from common.groups import groups_sync


def settings_row(apps, schema_editor) -> None:
    apps.get_model("statuspage", "PageSettings").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [
        ("statuspage", "0001_initial"),
        ("oncall", "0002_groups"),
        ("notifications", "0006_external_deliveries"),
    ]

    operations = [
        migrations.RunPython(settings_row, migrations.RunPython.noop),
        migrations.RunPython(groups_sync, migrations.RunPython.noop),
    ]
