"""The admin's shared plumbing: service-backed saves (services.py), the one transition page
(transition.py), and the API tokens and outbox admins (tokens.py, outbox.py, imported here so they
register)."""

from common.admin import outbox, tokens

__all__ = ["outbox", "tokens"]
