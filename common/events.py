"""Happenings the apps above may want to hear of (DESIGN.md rule 9: lower apps publish, higher apps
listen). Incidents publish every timeline event, actions every run milestone; notifications listens.

Listeners run inside the publisher's transaction and must stay cheap: they decide whether the event
concerns them and enqueue work after commit (common.tasks), without touching the database. A
listener that raises is logged and never undoes the change it heard of.

A publisher that records many events at once (a batch of alerts joining incidents) publishes them
together (`happenings_publish`): a listener registered with `many` hears them in one call and may
enqueue one message for all of them, which its on-commit callback keeps or loses with them (they
are recorded in one savepoint state); the others hear them one by one, in order."""

import logging
from collections.abc import Callable, Iterator, Sequence
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
ManyListener = Callable[[Sequence[Happening]], None]
_listeners: dict[str, tuple[Listener, ManyListener | None]] = {}


def listener_register(name: str, listener: Listener, *, many: ManyListener | None = None) -> None:
    """Keyed by name, so registering again (tests reloading apps) replaces instead of doubling.
    `many` hears the happenings published together, in one call; without it `listener` hears each."""
    _listeners[name] = (listener, many)


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
    for name, (listener, _) in list(_listeners.items()):
        try:
            listener(happening)
        except Exception:
            logger.exception("Listener %s failed on %s.%s", name, happening.topic, happening.kind)


def happenings_publish(happenings: Sequence[Happening]) -> None:
    """Publish happenings recorded together, in order: to a listener's `many` in one call, to the
    others one by one."""
    if not happenings:
        return
    for name, (listener, many) in list(_listeners.items()):
        if many is None:
            for happening in happenings:
                try:
                    listener(happening)
                except Exception:
                    logger.exception("Listener %s failed on %s.%s", name, happening.topic, happening.kind)
            continue
        try:
            many(happenings)
        except Exception:
            logger.exception("Listener %s failed on %d happenings", name, len(happenings))
