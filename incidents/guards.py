"""Registries the apps above incidents fill in from their AppConfig.ready(): they import incidents,
incidents never imports them (the floors of DESIGN.md).

- Close guards: a guard can refuse closing a resolved incident, with the reason and a link to the
  record that needs work (postmortems: a P1/P2 closes only with its post-mortem in review).
- Record links: the post-mortem an incident has, for its page and its API, with the join that
  fetches it along with the incident so lists stay at a constant number of queries.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from incidents.models import Incident


@dataclass(frozen=True)
class RecordLink:
    """A record of a higher app that belongs to one incident (its post-mortem)."""

    id: int
    status: str
    url: str  # API path
    admin_url: str  # admin page path

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "url": self.url, "admin_url": self.admin_url}


@dataclass(frozen=True)
class CloseRefusal:
    """Why a resolved incident cannot close yet, and where a person fixes that."""

    reason: str
    record: str  # The API key the record goes under ("postmortem").
    link: RecordLink | None  # The record to finish, or None when it does not exist yet.
    fix_url: str  # Admin page: the record's page, or the page that creates it.
    fix_label: str

    def api_extra(self) -> dict[str, Any]:
        return {self.record: self.link.as_dict() if self.link else None, "fix_url": self.fix_url}


CloseGuard = Callable[["Incident"], CloseRefusal | None]
_close_guards: dict[str, CloseGuard] = {}


def close_guard_register(name: str, guard: CloseGuard) -> None:
    """Keyed by name, so registering again (tests reloading apps) replaces instead of doubling."""
    _close_guards[name] = guard


def close_refusal(incident: "Incident") -> CloseRefusal | None:
    """The first guard that refuses closing this incident; None when it may close."""
    for guard in _close_guards.values():
        refusal = guard(incident)
        if refusal is not None:
            return refusal
    return None


@dataclass(frozen=True)
class LinkSource:
    join: str  # select_related path from Incident to the record.
    link: Callable[["Incident"], RecordLink | None]


_postmortem_source: list[LinkSource] = []


def postmortem_link_register(*, join: str, link: Callable[["Incident"], RecordLink | None]) -> None:
    _postmortem_source[:] = [LinkSource(join=join, link=link)]


def postmortem_link(incident: "Incident") -> RecordLink | None:
    return _postmortem_source[0].link(incident) if _postmortem_source else None


def record_joins() -> tuple[str, ...]:
    """What incident querysets select_related so the links above cost no query per row."""
    return tuple(source.join for source in _postmortem_source)
