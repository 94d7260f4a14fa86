"""Helpers for the tests of the run pages: their URLs, the decision buttons shown, and a run
requested through the service without a worker picking it up."""

import re
from unittest import mock

from django.urls import reverse

from actions.models import ActionRun
from actions.services import action_run_request
from common.actor import Actor, Source


def run_url(run) -> str:
    return reverse("admin:actions_actionrun_change", args=[run.pk])


def decide_url(run, name: str) -> str:
    return reverse("admin:actions_actionrun_decide", args=[run.pk, name])


def buttons(response) -> list[str]:
    return re.findall(r'data-decision="(\w+)"', response.content.decode())


def request_run(action, user, **kwargs) -> ActionRun:
    with mock.patch("actions.tasks.execute_action_run.apply_async"):
        return action_run_request(
            action=action, by=Actor(user=user, source=Source.ADMIN), parameters={"service": "nginx"}, **kwargs
        )
