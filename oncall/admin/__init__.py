"""The Django admin for on-call. Admin classes only collect input and call oncall.services; every
write and check happens there."""

from oncall.admin import incident, pages, policies, schedules

__all__ = ["incident", "pages", "policies", "schedules"]
