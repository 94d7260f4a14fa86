"""The admin's shared plumbing: service-backed saves (services.py), the one transition page
(transition.py), and the API tokens admin (tokens.py, imported here so it registers)."""

from common.admin import tokens

__all__ = ["tokens"]
