"""common.events: happenings published together reach a listener registered with `many` in one
call and the others one by one, in order; a failing listener neither stops the others nor raises;
a muted listener hears nothing of either kind."""

from datetime import UTC, datetime

import pytest

from common import events
from common.actor import Actor
from common.events import Happening, happening_publish, happenings_publish, listener_muted, listener_register


@pytest.fixture
def heard(monkeypatch):
    """Only this test's listeners: "one" hears one by one, "many" in one call, "broken" fails."""
    monkeypatch.setattr(events, "_listeners", {})
    got: list[tuple[str, list[str]]] = []

    def broken(happening: Happening) -> None:
        raise RuntimeError("a listener's bug")

    listener_register("broken", broken, many=lambda happenings: broken(happenings[0]))
    listener_register("one", lambda happening: got.append(("one", [happening.message])))
    listener_register(
        "many",
        lambda happening: got.append(("many", [happening.message])),
        many=lambda happenings: got.append(("many", [h.message for h in happenings])),
    )
    return got


def happening(message: str) -> Happening:
    return Happening(topic="incident", kind="note", by=Actor.system(), at=datetime.now(UTC), message=message)


def test_published_together_a_many_listener_hears_them_in_one_call(heard):
    happenings_publish([happening("a"), happening("b"), happening("c")])
    assert heard == [("one", ["a"]), ("one", ["b"]), ("one", ["c"]), ("many", ["a", "b", "c"])]


def test_published_alone_every_listener_hears_it_once(heard):
    happening_publish(happening("a"))
    assert heard == [("one", ["a"]), ("many", ["a"])]


def test_nothing_published_nothing_heard(heard):
    happenings_publish([])
    assert heard == []


def test_a_muted_many_listener_hears_nothing_and_comes_back(heard):
    with listener_muted("many"):
        happenings_publish([happening("a"), happening("b")])
    happenings_publish([happening("c")])
    assert heard == [("one", ["a"]), ("one", ["b"]), ("one", ["c"]), ("many", ["c"])]
