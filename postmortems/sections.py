"""The post-mortem's registry of extra sections: the apps above postmortems add a section to the
post-mortem's page and to its Markdown from their AppConfig.ready(); postmortems never imports them
(the floors of DESIGN.md). A section renders itself from the post-mortem: `html` for the admin page
(escaped by its author), `markdown` for the export, where it joins the Impact section."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.safestring import SafeString

if TYPE_CHECKING:
    from postmortems.models import Postmortem


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    html: Callable[["Postmortem"], SafeString]
    markdown: Callable[["Postmortem"], str] | None = None


@dataclass(frozen=True)
class Rendered:
    name: str
    title: str
    body: str


_sections: dict[str, Section] = {}


def section_register(
    name: str,
    *,
    title: str,
    html: Callable[["Postmortem"], SafeString],
    markdown: Callable[["Postmortem"], str] | None = None,
) -> None:
    """Keyed by name, so registering again (tests reloading apps) replaces instead of doubling."""
    _sections[name] = Section(name=name, title=title, html=html, markdown=markdown)


def sections_html(postmortem: "Postmortem") -> list[Rendered]:
    return [Rendered(s.name, s.title, s.html(postmortem)) for s in _sections.values()]


def sections_markdown(postmortem: "Postmortem") -> list[Rendered]:
    return [Rendered(s.name, s.title, s.markdown(postmortem)) for s in _sections.values() if s.markdown]
