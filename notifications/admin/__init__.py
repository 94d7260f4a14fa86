"""The Django admin for notifications. Admin classes only collect input and call
notifications.services; every write and check happens there."""

from notifications.admin import channels, contacts, deliveries, incident, rules, templates

__all__ = ["channels", "contacts", "deliveries", "incident", "rules", "templates"]
