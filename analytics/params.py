"""Analytics filters from a query string, shared by the admin dashboard and the API.

    range=7d|30d|90d|custom   start=YYYY-MM-DD&end=YYYY-MM-DD (custom; end inclusive)
    service=<slug> (repeatable)   service_type=web   team=<owner team>   priority=P1
    root_cause=deployment|unclassified   include_drills=true   group_by=priority   bucket=day

Bad input never gets as far as a selector: `parse` raises `InvalidParamsError` with the messages per
parameter, which the API returns as a 400 and the dashboard shows above its filter form."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.http import QueryDict
from django.utils import timezone

from analytics.filters import BUCKETS, GROUP_BYS, RANGES, UNCLASSIFIED, Filters
from incidents.choices import RootCauseCategory, ServiceType
from incidents.models import Priority, Service

CUSTOM = "custom"
RANGE_CHOICES = (*RANGES, CUSTOM)
RANGE_LABELS = {**{name: f"Last {days} days" for name, days in RANGES.items()}, CUSTOM: "Custom"}
DEFAULT_RANGE = "30d"
MAX_DAYS = 3 * 366  # "At most three years", leap days included.
# Far enough to hold any real history, near enough that the previous period and the month
# arithmetic of the selectors never leave the calendar.
EARLIEST, LATEST = date(1970, 1, 1), date(2999, 12, 31)
ROOT_CAUSE_CHOICES = (*RootCauseCategory.values, UNCLASSIFIED)
TRUE, FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off", ""}

# Every parameter `parse` reads, for strict callers (the API) that refuse unknown ones.
NAMES = (
    "range",
    "start",
    "end",
    "service",
    "service_type",
    "team",
    "priority",
    "root_cause",
    "include_drills",
    "group_by",
    "bucket",
)


class InvalidParamsError(Exception):
    """The query string could not be read; `errors` maps each parameter to its messages."""

    def __init__(self, errors: Mapping[str, list[str]]):
        super().__init__("Invalid analytics parameters.")
        self.errors = dict(errors)


@dataclass(frozen=True)
class AnalyticsParams:
    filters: Filters
    range: str
    group_by: str | None
    bucket: str

    @property
    def first_day(self) -> date:
        return timezone.localtime(self.filters.start).date()

    @property
    def last_day(self) -> date:
        """The last day the range covers (the end is exclusive)."""
        return timezone.localtime(self.filters.end - timedelta(microseconds=1)).date()


def auto_bucket(filters: Filters) -> str:
    """Days for up to three months, weeks up to a year, months beyond: a readable number of bars."""
    if filters.days <= 92:
        return "day"
    return "week" if filters.days <= 366 else "month"


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def default_range(query: QueryDict) -> str:
    """The range meant when none is named: custom when dates are given, else DEFAULT_RANGE."""
    return CUSTOM if query.get("start", "").strip() or query.get("end", "").strip() else DEFAULT_RANGE


def parse(
    query: QueryDict, *, now: datetime | None = None, strict: bool = False, allowed: Iterable[str] = ()
) -> AnalyticsParams:
    """The filters, group-by and bucket a query string asks for. `strict` refuses parameters other
    than NAMES and `allowed` (a typo should not silently widen the numbers)."""
    errors: dict[str, list[str]] = {}

    def error(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    def one(name: str) -> str:
        values = query.getlist(name)
        if len(values) > 1:
            error(name, "Give this parameter once.")
        return values[-1].strip() if values else ""

    def many(name: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v.strip() for v in query.getlist(name) if v.strip()))

    def choices(name: str, allowed_values: Iterable[str]) -> tuple[str, ...]:
        values, known = many(name), set(allowed_values)
        for value in values:
            if value not in known:
                error(name, f'Unknown value "{value}"; expected one of {", ".join(sorted(known))}.')
        return values

    if strict:
        for name in sorted(set(query) - set(NAMES) - set(allowed)):
            error(name, "Unknown parameter.")

    range_, start_raw, end_raw = one("range"), one("start"), one("end")
    for name in ("start", "end"):
        if name in query and not query.get(name, "").strip():
            error(name, "Give a date (YYYY-MM-DD), or leave the parameter out.")
    range_ = range_ or default_range(query)
    start = end = None
    if range_ not in RANGE_CHOICES:
        error("range", f'Unknown range "{range_}"; expected one of {", ".join(RANGE_CHOICES)}.')
    elif range_ != CUSTOM and (start_raw or end_raw):
        error("range", "start and end go with range=custom.")
    elif range_ == CUSTOM:
        start, end = _day(start_raw, "start", error), _day(end_raw, "end", error)
        if start and end and start > end:
            error("end", "The end date is before the start date.")
        elif start and end and (end - start).days + 1 > MAX_DAYS:
            error("end", "The range is longer than three years; pick a shorter one.")

    services = many("service")
    priorities = many("priority")
    teams = many("team")
    service_types = choices("service_type", ServiceType.values)
    root_causes = choices("root_cause", ROOT_CAUSE_CHOICES)
    # Rows named by the caller must exist: an unknown slug is a typo, not "no incidents" (one query
    # each, only when given).
    for name, values, known in (
        (
            "service",
            services,
            lambda: Service.objects.filter(slug__in=services).values_list("slug", flat=True),
        ),
        (
            "priority",
            priorities,
            lambda: Priority.objects.filter(code__in=priorities).values_list("code", flat=True),
        ),
        (
            "team",
            teams,
            lambda: Service.objects.filter(owner_team__in=teams).values_list("owner_team", flat=True),
        ),
    ):
        if values:
            found = set(known())
            for value in (v for v in values if v not in found):
                error(name, f'Unknown {name.replace("_", " ")} "{value}".')

    drills = one("include_drills").lower()
    if drills not in TRUE | FALSE:
        error("include_drills", "Give true or false.")
    group_by = one("group_by") or None
    if group_by is not None and group_by not in GROUP_BYS:
        error("group_by", f'Unknown group-by "{group_by}"; expected one of {", ".join(GROUP_BYS)}.')
    bucket = one("bucket") or None
    if bucket is not None and bucket not in BUCKETS:
        error("bucket", f'Unknown bucket "{bucket}"; expected one of {", ".join(BUCKETS)}.')

    if errors:
        raise InvalidParamsError(errors)
    narrowing = {
        "services": services,
        "service_types": service_types,
        "teams": teams,
        "priorities": priorities,
        "root_causes": root_causes,
        "include_drills": drills in TRUE,
    }
    if range_ == CUSTOM:
        filters = Filters(
            start=local_midnight(start), end=local_midnight(end + timedelta(days=1)), **narrowing
        )
    else:
        filters = Filters.last(RANGES[range_], now=now, **narrowing)
    return AnalyticsParams(
        filters=filters, range=range_, group_by=group_by, bucket=bucket or auto_bucket(filters)
    )


def _day(raw: str, name: str, error) -> date | None:
    if not raw:
        error(name, "Required with range=custom (YYYY-MM-DD).")
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        error(name, "Give a date as YYYY-MM-DD.")
        return None
    if not EARLIEST <= value <= LATEST:
        error(name, f"Give a date between {EARLIEST} and {LATEST}.")
        return None
    return value
