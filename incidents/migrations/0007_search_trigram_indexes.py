from django.db import migrations

# The admin's search runs UPPER(column::text) LIKE UPPER('%words%'); on PostgreSQL a trigram index on
# that same expression answers it without reading every incident. SQLite has no such index.
INDEXES = {
    "incidents_incident_title_trgm": "title",
    "incidents_incident_reference_trgm": "reference",
}


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON incidents_incident USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("incidents", "0006_incident_is_repeat")]

    operations = [migrations.RunPython(create, drop)]
