"""The Django admin for the status page. Admin classes only collect input and call
statuspage.services; every write and check happens there."""

from statuspage.admin import catalog, public_incidents, settings, subscribers

__all__ = ["catalog", "public_incidents", "settings", "subscribers"]
