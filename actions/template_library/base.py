"""What the templates are written with: conditions, parameter patterns, the `sh`, `param` and
`step` builders, and command fragments more than one group uses."""

from textwrap import dedent
from typing import Any

from actions.choices import StepCondition, TargetKind

ALWAYS = StepCondition.ALWAYS
IF_OK = StepCondition.PREVIOUS_SUCCESS
IF_FAILED = StepCondition.PREVIOUS_FAILURE

SERVICE_PATTERN = r"^[A-Za-z0-9@_][A-Za-z0-9@._-]*$"
# An allow-list, not "anything without spaces": the value may come from an alert's labels.
URL = r"https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?(/[A-Za-z0-9._~%/+-]*)?(\?[A-Za-z0-9._~%=&+-]*)?"
URL_PATTERN = rf"^{URL}$"
PATH_PATTERN = r"^/[^\s]*$"
PERCENT_PATTERN = r"^([1-9][0-9]?|100)$"
DAYS_PATTERN = r"^[0-9]{1,4}$"


def sh(*parts: str) -> str:
    """A command from pieces, each dedented on its own."""
    return "\n".join(dedent(part).strip("\n").rstrip() for part in parts) + "\n"


def param(
    name: str, description: str, *, default: str = "", required: bool = False, pattern: str = ""
) -> dict[str, Any]:
    declaration: dict[str, Any] = {"name": name, "description": description, "required": required}
    if default:
        declaration["default"] = default
    if pattern:
        declaration["pattern"] = pattern
    return declaration


def step(
    name: str,
    command: str,
    *,
    timeout: int,
    condition: str = ALWAYS,
    retries: int = 0,
    retry_delay: int = 5,
    target: str = TargetKind.PROVIDER,
    target_parameter: str = "",
) -> dict[str, Any]:
    """`target` "provider" means the provider or group chosen when the template is used;
    "trigger" keeps the step on the host named by `target_parameter`."""
    return {
        "name": name,
        "command": command,
        "timeout_seconds": timeout,
        "retries": retries,
        "retry_delay_seconds": retry_delay,
        "condition": condition,
        "target": target,
        "target_parameter": target_parameter,
    }


# Reused fragments. Memory in use is MemTotal - MemAvailable, as `free` computes "used".
MEMORY_USED = (
    "used=$(awk '/^MemTotal:/ { t = $2 } /^MemAvailable:/ { a = $2 } "
    'END { if (t > 0) printf "%d", (t - a) * 100 / t; else print 0 }\' /proc/meminfo)'
)
