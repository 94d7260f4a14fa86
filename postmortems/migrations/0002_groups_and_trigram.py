from django.db import migrations

from common.groups import groups_sync


def trigram_on(apps, schema_editor) -> None:
    """Related-incident search uses trigram similarity on PostgreSQL (pg_trgm ships with it);
    SQLite has no extensions and uses a simpler word match."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")


class Migration(migrations.Migration):
    dependencies = [
        ("postmortems", "0001_initial"),
        ("alerts", "0004_processing_and_responses"),
        ("incidents", "0005_service_owner_email_and_postmortem_events"),
    ]

    operations = [
        migrations.RunPython(trigram_on, migrations.RunPython.noop),
        migrations.RunPython(groups_sync, migrations.RunPython.noop),
    ]
