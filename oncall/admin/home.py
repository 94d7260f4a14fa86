"""The ops home's on-call section: who is on call now on each schedule. Registered from
OncallConfig.ready()."""

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from common.admin.home import section_register
from oncall.selectors import oncall_at, schedule_list

SHOWN = 20


def oncall_now_context(request: HttpRequest) -> dict[str, Any] | None:
    if not request.user.has_perm("oncall.view_schedule"):
        return None
    # Without the list's prefetches: oncall_at loads the layers and members in its own fixed queries.
    schedules = list(schedule_list().prefetch_related(None).order_by("name", "id")[: SHOWN + 1])
    on_call = oncall_at(schedules=schedules[:SHOWN], at=timezone.now()) if schedules else {}
    return {
        "rows": [
            {"schedule": schedule, "people": on_call.get(schedule.pk, [])} for schedule in schedules[:SHOWN]
        ],
        "more": len(schedules) > SHOWN,
        "mine_url": reverse("admin:oncall_schedule_mine"),
        "empty": "No on-call schedule yet.",
    }


def register() -> None:
    section_register(
        "oncall-now",
        title="On call now",
        template="admin/home/oncall.html",
        order=400,
        context=oncall_now_context,
    )
