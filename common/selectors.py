"""Reads shared by every app: API tokens."""

import hashlib

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils import timezone

from common.models import ApiToken


def api_token_digest(key: str) -> str:
    """SHA-256 of a key. Keys are 256 random bits, so a fast unsalted hash is enough: nothing can
    be guessed from the digest, and one indexed lookup finds the row."""
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_authenticate(*, key: str) -> ApiToken | None:
    """The active token with this key, its user loaded, or None (unknown, expired or revoked)."""
    now = timezone.now()
    return (
        ApiToken.objects.select_related("user")
        .filter(digest=api_token_digest(key), revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .first()
    )


def api_token_list(*, user: AbstractBaseUser | None = None) -> QuerySet[ApiToken]:
    """Tokens, newest first; only `user`'s when given."""
    tokens = ApiToken.objects.select_related("user", "revoked_by").order_by("-created_at", "-pk")
    return tokens if user is None else tokens.filter(user=user)
