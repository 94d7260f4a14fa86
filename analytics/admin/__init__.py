"""The Django admin for analytics: scheduled reports (reports.py). The dashboard page
(dashboard.py) is mounted by its own URLs and registers nothing here."""

from analytics.admin import reports

__all__ = ["reports"]
