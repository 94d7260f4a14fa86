"""The ops home's run sections: runs waiting for this user's approval (four eyes: never their own
request) and the runs executing now. Registered from ActionsConfig.ready()."""

from typing import Any

from django.http import HttpRequest

from actions.choices import RunStatus
from actions.models.run import APPROVE_PERMISSION
from actions.selectors import action_run_list
from common.admin.home import section_register

SHOWN = 20


def _section(runs, empty: str) -> dict[str, Any]:
    rows = list(runs[: SHOWN + 1])
    return {"runs": rows[:SHOWN], "more": len(rows) > SHOWN, "empty": empty}


def awaiting_approval_context(request: HttpRequest) -> dict[str, Any] | None:
    user = request.user
    if not user.has_perm(APPROVE_PERMISSION):
        return None
    runs = (
        action_run_list(filters={"status": RunStatus.AWAITING_APPROVAL})
        .exclude(requested_by=user)
        .order_by("created_at", "id")
    )
    context = _section(runs, "No run is waiting for your approval.")
    context["status_filter"] = f"status__exact={RunStatus.AWAITING_APPROVAL}"
    return context


def running_context(request: HttpRequest) -> dict[str, Any] | None:
    if not request.user.has_perm("actions.view_actionrun"):
        return None
    runs = action_run_list(filters={"status": RunStatus.RUNNING}).order_by("started_at", "id")
    context = _section(runs, "No action is running.")
    context["status_filter"] = f"status__exact={RunStatus.RUNNING}"
    return context


def register() -> None:
    section_register(
        "runs-awaiting-approval",
        title="Runs awaiting my approval",
        template="admin/home/runs.html",
        order=200,
        context=awaiting_approval_context,
    )
    section_register(
        "running-actions",
        title="Running actions",
        template="admin/home/runs.html",
        order=210,
        context=running_context,
    )
