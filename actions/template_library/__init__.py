"""The action templates Mitigate ships: the runbook's common procedures as ready-made actions.

Plain data, one module per group (restart, cleanup, diagnostics, backup), written with the
builders in `base`. `action_create_from_template` (actions.services.templates) clones one into a
real action through action_save, so a template passes exactly the checks a hand-written action
does, with every step pointed at the provider or group the user picks.

How the commands are written:
- POSIX sh (the local runner uses /bin/sh, SSH hosts their login shell's `sh -c`); Debian tools
  first, with a fallback where a minimal host may lack one (curl, ss, free).
- A placeholder is only ever used as the whole right-hand side of an assignment at the top,
  `service={{ params.service }}`, then as "$service": the templating quotes every value, and a
  quoted value never ends up inside another pair of quotes.
- No sudo inside commands: turn on "use sudo" on the provider (or connect as root) for the steps
  that need root. Each step says what it needs.
- The exit status is the verdict: 0 passes, anything else fails the step (and may be retried).
- Steps share nothing but the host: a later step finds what an earlier one made by a fixed name.
- Optional parameters always have a default: a parameter without a value cannot be substituted.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from actions.choices import Category, Risk
from actions.template_library.backup import BACKUP_TEMPLATE, RESTORE_TEMPLATE
from actions.template_library.base import param, sh, step
from actions.template_library.cleanup import DISK_CLEANUP_TEMPLATE, MEMORY_CLEANUP_TEMPLATE
from actions.template_library.diagnostics import HEALTH_CHECK_TEMPLATE, LOG_COLLECTION_TEMPLATE
from actions.template_library.restart import SERVICE_RESTART_TEMPLATE

__all__ = [
    "HEALTH_CHECK_KEY",
    "TEMPLATES",
    "Template",
    "param",
    "sh",
    "step",
    "template_get",
    "template_list",
]

# The default state capture action of a service (actions.services.capture) is made from this one.
HEALTH_CHECK_KEY = HEALTH_CHECK_TEMPLATE["key"]

# In the order the admin lists them.
TEMPLATES: list[dict[str, Any]] = [
    SERVICE_RESTART_TEMPLATE,
    DISK_CLEANUP_TEMPLATE,
    LOG_COLLECTION_TEMPLATE,
    HEALTH_CHECK_TEMPLATE,
    BACKUP_TEMPLATE,
    RESTORE_TEMPLATE,
    MEMORY_CLEANUP_TEMPLATE,
]


@dataclass(frozen=True)
class Template:
    """One shipped template, read from TEMPLATES."""

    key: str
    name: str
    summary: str
    description: str
    category: str
    risk: str
    tags: list[str]
    estimated_duration: timedelta
    parameters: list[dict[str, Any]]
    steps: list[dict[str, Any]]

    @property
    def category_label(self) -> str:
        return Category(self.category).label

    @property
    def risk_label(self) -> str:
        return Risk(self.risk).label


def template_list() -> list[Template]:
    return [Template(**spec) for spec in TEMPLATES]


def template_get(key: str) -> Template | None:
    return next((t for t in template_list() if t.key == key), None)
