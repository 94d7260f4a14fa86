"""The Django admin for analytics: scheduled reports (reports.py), hourly rates
and the incident's cost panels (cost.py). The dashboard page
(dashboard.py) is mounted by its own URLs and registers nothing here."""

from analytics.admin import cost, reports

__all__ = ["cost", "reports"]
