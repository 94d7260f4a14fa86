"""Helpers for the post-mortem admin tests."""

from postmortems.models import Postmortem
from postmortems.services import postmortem_update


def logged_in(client, user):
    client.force_login(user)
    return client


def ready(postmortem: Postmortem, actor) -> Postmortem:
    return postmortem_update(
        postmortem=postmortem,
        by=actor,
        data={"executive_summary": "Checkout failed for 40 min.", "root_cause": "A bad deploy."},
    )


def buttons(response) -> set[str]:
    return {b["name"] for b in response.context["pm_transitions"]}
