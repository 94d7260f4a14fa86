"""Actor: who did something and through which interface, as the timeline records it."""

import pytest

from common.actor import Actor, Source
from common.exceptions import (
    ApplicationError,
    ConflictError,
    PermissionDeniedError,
    TransitionNotAllowedError,
)


def test_system_actor():
    actor = Actor.system(source=Source.CLI, label="log-monitor")
    assert (actor.user, actor.source, actor.is_system, str(actor)) == (None, "cli", True, "log-monitor")
    assert str(Actor.system()) == "system"
    assert Actor.system().source == Source.SYSTEM
    assert actor.has_perm("incidents.transition_incident")
    assert actor.has_perm("anything.at_all")


@pytest.mark.django_db
def test_user_actor(user_factory):
    viewer = Actor(user=user_factory(username="carol", groups=["Viewer"]), source=Source.ADMIN)
    responder = Actor(user=user_factory(username="alice", groups=["Responder"]), source=Source.API)
    assert (str(viewer), viewer.is_system) == ("carol", False)
    assert viewer.has_perm("incidents.view_incident")
    assert not viewer.has_perm("incidents.transition_incident")
    assert responder.has_perm("incidents.transition_incident")


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (ApplicationError, 400, "invalid"),
        (TransitionNotAllowedError, 409, "transition_not_allowed"),
        (ConflictError, 409, "conflict"),
        (PermissionDeniedError, 403, "permission_denied"),
    ],
)
def test_domain_errors_carry_their_response(error, status, code):
    exc = error("Nope", extra={"status": "new"})
    assert (exc.http_status, exc.code, exc.message, exc.extra, str(exc)) == (
        status,
        code,
        "Nope",
        {"status": "new"},
        "Nope",
    )
    assert error("Nope", code="custom").code == "custom"


@pytest.mark.django_db
def test_require_refuses_with_the_message(user_factory):
    viewer = Actor(user=user_factory(username="carol", groups=["Viewer"]), source=Source.ADMIN)
    with pytest.raises(PermissionDeniedError, match=r"^You may not edit incidents\.$"):
        viewer.require("incidents.change_incident", "edit incidents")
    Actor.system().require("incidents.change_incident", "edit incidents")
    with pytest.raises(PermissionDeniedError, match=r"^Only approvers may approve runs\.$"):
        Actor.system().require(
            "actions.approve_actionrun", people_only=True, refusal="Only approvers may approve runs."
        )
