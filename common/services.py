"""Writes shared by every app: API tokens."""

import secrets
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from common.exceptions import ApplicationError, ConflictError
from common.models import ApiToken
from common.selectors import api_token_digest

# Marks our keys, so secret scanners and people can tell a Mitigate token from other strings.
KEY_PREFIX = "mtg_"


def api_token_create(
    *, user: AbstractBaseUser, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for `user` and its key, which is never stored and cannot be shown again.
    Without `expires_at` it expires after API_TOKEN_TTL."""
    now = timezone.now()
    expires_at = expires_at or now + settings.API_TOKEN_TTL
    if expires_at <= now:
        raise ApplicationError(
            "The expiry must be in the future.", extra={"expires_at": ["Must be in the future."]}
        )
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=key[:12], digest=api_token_digest(key), expires_at=expires_at
    )
    return token, key


def api_token_revoke(*, token: ApiToken, by: AbstractBaseUser | None) -> ApiToken:
    """Stop `token` from working at once; the row stays, with who revoked it and when."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is not None:
            raise ConflictError("This token is already revoked.")
        token.revoked_at = timezone.now()
        token.revoked_by = by
        token.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
    return token
