"""Which period a report covers when it is sent, and how that period reads."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from analytics.models import Report, ReportRange
from analytics.services.reports.schedule import TYPE_DEFAULTS


def _local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(settings.TIME_ZONE))


def _month_start(day: date, back: int = 0) -> date:
    first = day.replace(day=1)
    for _ in range(back):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def report_period(report: Report, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The half-open period [start, end) the report covers when run at `now`, in whole days of
    TIME_ZONE: previous_month is the first of last month 00:00 to the first of this month 00:00."""
    now = now or timezone.now()
    today = now.astimezone(ZoneInfo(settings.TIME_ZONE)).date()
    range_ = (report.parameters or {}).get("range") or TYPE_DEFAULTS[report.type]["range"]
    if range_ == ReportRange.PREVIOUS_MONTH:
        return _local_midnight(_month_start(today, 1)), _local_midnight(_month_start(today))
    if range_ == ReportRange.PREVIOUS_WEEK:
        monday = today - timedelta(days=today.weekday())
        return _local_midnight(monday - timedelta(days=7)), _local_midnight(monday)
    days = {ReportRange.LAST_7_DAYS: 7, ReportRange.LAST_30_DAYS: 30, ReportRange.LAST_90_DAYS: 90}[range_]
    return _local_midnight(today - timedelta(days=days)), _local_midnight(today)


def previous_period(range_: str, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    if range_ == ReportRange.PREVIOUS_MONTH:
        local = start.astimezone(ZoneInfo(settings.TIME_ZONE)).date()
        return _local_midnight(_month_start(local, 1)), start
    return start - (end - start), start


def period_label(start: datetime, end: datetime) -> str:
    tz = ZoneInfo(settings.TIME_ZONE)
    first = start.astimezone(tz).date()
    last = (end.astimezone(tz) - timedelta(microseconds=1)).date()
    if first.day == 1 and (last + timedelta(days=1)).day == 1 and first.month == last.month:
        return first.strftime("%B %Y")
    if first == last:
        return f"{first.day} {first:%b %Y}"
    return f"{first.day} {first:%b %Y} to {last.day} {last:%b %Y}"
