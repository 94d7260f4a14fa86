"""Happenings the apps above may want to hear of (DESIGN.md rule 9: lower apps publish, higher apps
listen). Incidents publish every timeline event, actions every run milestone; notifications listens.

Listeners run inside the publisher's transaction and must stay cheap: they decide whether the event
concerns them and enqueue work after commit (common.tasks), without touching the database. A
listener that raises is logged and never undoes the change it heard of."""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from common.actor import Actor

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Happening:
    """`topic` names the publisher's record ("incident", "run"); `kind` its event kind there."""

    topic: str
    kind: str
    by: Actor
    at: datetime
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    incident_id: int | None = None
    subject_id: int | None = None  # The run for topic "run".


Listener = Callable[[Happening], None]
_listeners: dict[str, Listener] = {}


def listener_register(name: str, listener: Listener) -> None:
    """Keyed by name, so registering again (tests reloading apps) replaces instead of doubling."""
    _listeners[name] = listener


@contextmanager
def listener_muted(name: str) -> Iterator[None]:
    """Leave one listener out for a block (seed_demo writing weeks of past incidents must not page
    anyone about them). Process-wide: for commands, not for code that serves requests."""
    listener = _listeners.pop(name, None)
    try:
        yield
    finally:
        if listener is not None:
            _listeners.setdefault(name, listener)


def happening_publish(happening: Happening) -> None:
    for name, listener in list(_listeners.items()):
        try:
            listener(happening)
        except Exception:
            logger.exception("Listener %s failed on %s.%s", name, happening.topic, happening.kind)
