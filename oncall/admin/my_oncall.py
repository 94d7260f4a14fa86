""" "My on-call": the person's current and next shifts (14 days), the open pages that paged them,
and the schedules they rotate on with who is on call now and a Take over button each."""

import datetime as dt

from django.contrib import messages
from django.contrib.admin import AdminSite
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from common.admin.deletes import REFUSALS, refusal_text
from common.admin.services import admin_actor
from oncall import selectors as shared
from oncall.models import LayerMember, Schedule
from oncall.services.overrides import override_take_over

AHEAD = dt.timedelta(days=14)


def my_oncall_view(request: HttpRequest, site: AdminSite) -> HttpResponse:
    now, me = timezone.now(), request.user
    shifts = shared.user_shifts(user=me, start=now, end=now + AHEAD)
    current = [(schedule, shift) for schedule, shift in shifts if shift.start <= now]
    upcoming = [(schedule, shift) for schedule, shift in shifts if shift.start > now]
    pages = shared.pages_open_for(user=me)
    mine = list(shared.schedules_of(user=me))
    on_call = shared.oncall_at(schedules=mine, at=now)
    schedules = [
        {
            "schedule": schedule,
            "on_call": ", ".join(user.get_username() for user in on_call.get(schedule.pk, [])) or "nobody",
            "me_on_call": any(user.pk == me.pk for user in on_call.get(schedule.pk, [])),
            "take_over_url": reverse("admin:oncall_schedule_take_over", args=[schedule.pk]),
        }
        for schedule in mine
    ]
    context = {
        **site.each_context(request),
        "title": "My on-call",
        "subtitle": None,
        "current": [_shift_row(schedule, shift) for schedule, shift in current],
        "upcoming": [_shift_row(schedule, shift) for schedule, shift in upcoming],
        "pages": pages,
        "schedules": schedules,
        "services": shared.services_oncall(at=now),
        "can_take_over": me.has_perm("oncall.add_override"),
        "here": request.get_full_path(),
        "is_member": LayerMember.objects.filter(user=me).exists(),
    }
    return TemplateResponse(request, "admin/oncall/my_oncall.html", context)


def _shift_row(schedule: Schedule, shift) -> dict:
    zone = timezone.get_current_timezone()
    return {
        "schedule": schedule,
        "start": shift.start.astimezone(zone),
        "end": shift.end.astimezone(zone),
        "via": "override" if shift.override_id else "rotation",
    }


def take_over_view(request: HttpRequest, object_id: str) -> HttpResponse:
    """POST only (CSRF-checked by the admin): override myself on the schedule from now."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    schedule = get_object_or_404(Schedule, pk=object_id)
    back = request.POST.get("next") or reverse("admin:oncall_schedule_change", args=[schedule.pk])
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("admin:oncall_schedule_change", args=[schedule.pk])
    try:
        override = override_take_over(schedule=schedule, by=admin_actor(request))
    except REFUSALS as exc:
        messages.error(request, refusal_text(exc))
    else:
        ends = timezone.localtime(override.ends_at)
        messages.success(request, f"You are on call on {schedule.name} until {ends:%a %d %b %H:%M}.")
    return HttpResponseRedirect(back)
