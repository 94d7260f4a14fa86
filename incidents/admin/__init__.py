"""The Django admin, where ops staff work. Admin classes only collect input and call
incidents.services; every write, check and timeline event happens there."""

from incidents.admin import catalog, incident

__all__ = ["catalog", "incident"]
