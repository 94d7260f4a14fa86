"""The ops home's registry: each app contributes its sections (open incidents, runs awaiting
approval, who is on call) from its own `admin/home.py`, registered in its AppConfig.ready(), so
common never imports the apps above it (the floors of DESIGN.md).

A section is a template and a function that gives its context for the request, or None to leave it
out (no permission, nothing to say). Each function runs a fixed number of queries: the home page's
count does not grow with the data.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

SectionContext = Callable[[HttpRequest], dict[str, Any] | None]


@dataclass(frozen=True)
class Section:
    name: str  # Makes the section's id: home-<name>.
    title: str
    template: str
    order: int
    context: SectionContext


@dataclass(frozen=True)
class ShownSection:
    name: str
    title: str
    template: str
    data: dict[str, Any]


_sections: dict[str, Section] = {}


def section_register(name: str, *, title: str, template: str, order: int, context: SectionContext) -> None:
    """Keyed by name, so registering again (tests reloading apps) replaces instead of doubling."""
    _sections[name] = Section(name=name, title=title, template=template, order=order, context=context)


def sections_for(request: HttpRequest) -> list[ShownSection]:
    """The sections this user sees, by order."""
    shown = []
    for section in sorted(_sections.values(), key=lambda s: (s.order, s.name)):
        data = section.context(request)
        if data is not None:
            shown.append(ShownSection(section.name, section.title, section.template, data))
    return shown
