"""The incident page's registry: the apps above incidents add their inlines and buttons to it from
their AppConfig.ready(); incidents never imports them (the floors of DESIGN.md).

Inlines are placed by `order`, top to bottom, among the page's own status updates (100): today
alerts sit at 200, action runs at 300, paging at 340, notifications at 350, the post-mortem panels
at 500. The timeline is no inline: the war room shows it above them (incidents.admin.warroom).
Buttons join the lifecycle bar in registration order, each shown when its `url` gives a link.
Timeline sources add entries that are not timeline events (notifications sent) to the page's
timeline, with a filter of their own.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.contrib.admin.options import InlineModelAdmin
from django.http import HttpRequest

if TYPE_CHECKING:
    from incidents.models import Incident

STATUS_UPDATES = 100

_inlines: dict[str, tuple[int, type[InlineModelAdmin]]] = {}


def inline_register(name: str, inline: type[InlineModelAdmin], *, order: int) -> None:
    """Keyed by name, so registering again (tests reloading apps) replaces instead of doubling."""
    _inlines[name] = (order, inline)


def inlines_with(own: dict[int, type[InlineModelAdmin]]) -> list[type[InlineModelAdmin]]:
    """The page's own inlines (by order) and the registered ones, top to bottom."""
    placed = [*own.items(), *_inlines.values()]
    return [inline for _, inline in sorted(placed, key=lambda entry: entry[0])]


@dataclass(frozen=True)
class Button:
    """A link in the lifecycle bar; `name` makes its id and class (`incident-<name>`)."""

    name: str
    label: str
    url: str


ButtonUrl = Callable[[HttpRequest, "Incident"], str | None]
_buttons: dict[str, tuple[str, ButtonUrl]] = {}


def button_register(name: str, *, label: str, url: ButtonUrl) -> None:
    """`url` returns where the button leads, or None to hide it (closed incident, no permission)."""
    _buttons[name] = (label, url)


def buttons_for(request: HttpRequest, incident: "Incident") -> list[Button]:
    shown = ((name, label, url(request, incident)) for name, (label, url) in _buttons.items())
    return [Button(name=name, label=label, url=href) for name, label, href in shown if href]


# --- Timeline sources: entries of the apps above shown in the war-room timeline ------------------


@dataclass(frozen=True)
class TimelineEntry:
    """One line of the incident page's timeline that is not a TimelineEvent (a notification sent)."""

    occurred_at: datetime
    label: str  # What happened, short: "Notification sent".
    who: str
    source: str
    message: str
    url: str = ""  # Its own page, if it has one.


@dataclass(frozen=True)
class TimelineSource:
    name: str  # The ?timeline= filter that shows only this source.
    label: str
    entries: Callable[["Incident"], list[TimelineEntry]]  # A fixed number of queries.


_timeline_sources: dict[str, TimelineSource] = {}


def timeline_source_register(
    name: str, *, label: str, entries: Callable[["Incident"], list[TimelineEntry]]
) -> None:
    """Keyed by name, so registering again (tests reloading apps) replaces instead of doubling."""
    _timeline_sources[name] = TimelineSource(name=name, label=label, entries=entries)


def timeline_sources() -> list[TimelineSource]:
    return list(_timeline_sources.values())
