"""DRF's authtoken kept API keys in plain text (authtoken_token). Each one becomes an ApiToken that
stores only its SHA-256, so clients keep working with the key they have until it expires
(API_TOKEN_TTL from now); then the plain-text table is dropped."""

import hashlib

from django.conf import settings
from django.db import migrations
from django.utils import timezone

from common.groups import groups_sync


def hash_drf_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if "authtoken_token" not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("common", "ApiToken")
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, user_id FROM authtoken_token")
        rows = cursor.fetchall()
    expires_at = timezone.now() + settings.API_TOKEN_TTL
    ApiToken.objects.bulk_create(
        ApiToken(
            user_id=user_id,
            name="API token (from before hashing)",
            prefix=key[:8],
            digest=hashlib.sha256(key.encode()).hexdigest(),
            expires_at=expires_at,
        )
        for key, user_id in rows
    )
    schema_editor.execute("DROP TABLE authtoken_token")
    # Forget the app entirely, so installing it again would start from a fresh table.
    schema_editor.execute("DELETE FROM django_migrations WHERE app = 'authtoken'")
    apps.get_model("contenttypes", "ContentType").objects.filter(app_label="authtoken").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("common", "0001_api_tokens"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(hash_drf_tokens, migrations.RunPython.noop),
        # Admins get the token and lockout permissions in place of authtoken's.
        migrations.RunPython(groups_sync, migrations.RunPython.noop),
    ]
