"""The Django admin for actions. Admin classes only collect input and call actions.services;
every write and check happens there."""

from actions.admin import catalog, incident, providers, runbooks, runs

__all__ = ["catalog", "incident", "providers", "runbooks", "runs"]
