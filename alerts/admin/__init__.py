"""The Django admin for alerts. Admin classes only collect input and call alerts.services; every
write and check happens there. The rule tester only reads (alerts.selectors.rules_preview)."""

from alerts.admin import alerts, rules, silences, sources

__all__ = ["alerts", "rules", "silences", "sources"]
