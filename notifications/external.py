"""Deliveries to people who are neither users nor channels (a status page's subscribers), for the
apps above notifications. Such an app registers, under a name, how to build the message and the
target of one of its deliveries at send time; the ledger does the rest: claiming, sending once,
retries, backoff, the sweeper, the admin's Deliveries view.

A delivery of this kind has no channel and no user; `external` holds the registered name and
`event` whatever the app needs to find its rows again (ids, never secrets)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from notifications.transport import Message, Target

if TYPE_CHECKING:
    from notifications.models import Delivery


@dataclass(frozen=True)
class ExternalAudience:
    message: Callable[["Delivery"], Message]
    target: Callable[["Delivery"], Target]


_audiences: dict[str, ExternalAudience] = {}


def external_register(name: str, *, message: Callable[["Delivery"], Message], target) -> None:
    """Keyed by name, so registering again (tests reloading apps) replaces instead of doubling."""
    _audiences[name] = ExternalAudience(message=message, target=target)


def external_audience(name: str) -> ExternalAudience:
    try:
        return _audiences[name]
    except KeyError:
        raise LookupError(f"No external audience {name!r} is registered.") from None
