"""The incident page's registry: the apps above incidents add their inlines and buttons to it from
their AppConfig.ready(); incidents never imports them (the floors of DESIGN.md).

Inlines are placed by `order`, top to bottom, among the page's own: the status updates (100) and
the timeline (400). Today alerts sit at 200, action runs at 300, paging at 340, notifications at 350, the
post-mortem panels at 500.
Buttons join the lifecycle bar in registration order, each shown when its `url` gives a link.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.admin.options import InlineModelAdmin
from django.http import HttpRequest

if TYPE_CHECKING:
    from incidents.models import Incident

STATUS_UPDATES = 100
TIMELINE = 400

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
