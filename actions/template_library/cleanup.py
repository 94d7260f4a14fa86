"""Freeing resources: disk space and memory."""

from datetime import timedelta
from typing import Any

from actions.choices import Category, Risk
from actions.template_library.base import (
    DAYS_PATTERN,
    IF_FAILED,
    MEMORY_USED,
    PATH_PATTERN,
    PERCENT_PATTERN,
    SERVICE_PATTERN,
    param,
    sh,
    step,
)

# --- Disk cleanup ------------------------------------------------------------------------------

DISK_BEFORE = sh(
    """
    path={{ params.path }}
    df -hP -- "$path" || exit 1
    echo
    echo "Largest directories under $path:"
    du -xh -d 1 -- "$path" 2>/dev/null | sort -rh | head -n 15
    """
)
DISK_LOGS = sh(
    """
    days={{ params.days }}
    if command -v journalctl >/dev/null 2>&1; then
      journalctl --vacuum-time="${days}d" 2>&1 || echo "The journal could not be vacuumed (it needs root)."
    fi
    echo "Rotated logs under /var/log older than $days days (current logs are never touched):"
    find /var/log -xdev -type f \\( -name '*.gz' -o -name '*.xz' -o -name '*.bz2' -o -name '*.zst' \\
      -o -name '*.[0-9]' -o -name '*.old' \\) -mtime +"$days" -print -delete
    """
)
DISK_TEMP = sh(
    """
    days={{ params.days }}
    echo "Files in /tmp and /var/tmp neither read nor changed for more than $days days:"
    find /tmp /var/tmp -xdev -mindepth 1 -type f -atime +"$days" -mtime +"$days" -print -delete
    rc=$?
    if command -v apt-get >/dev/null 2>&1; then
      apt-get clean && echo "APT's package cache is cleaned."
    fi
    exit "$rc"
    """
)
DISK_AFTER = sh(
    """
    path={{ params.path }}
    df -hP -- "$path"
    """
)

# --- Memory cleanup ----------------------------------------------------------------------------

MEMORY_CHECK = sh(
    """
    free -m 2>/dev/null || grep -E '^(MemTotal|MemFree|MemAvailable|Cached|SwapTotal|SwapFree):' /proc/meminfo
    echo
    ps aux --sort=-%mem 2>/dev/null | head -n 11
    """
)
MEMORY_DROP_CACHES = sh(
    """
    threshold={{ params.threshold }}
    sync
    if echo 1 2>/dev/null > /proc/sys/vm/drop_caches; then
      echo "Page cache dropped."
    else
      echo "Could not drop the page cache: that needs root (turn on sudo for the provider)." >&2
    fi
    """,
    MEMORY_USED,
    """
    echo "Memory in use: $used% (threshold: $threshold%)."
    if [ "$used" -ge "$threshold" ]; then
      echo "Still at or above $threshold%: the next step restarts the service." >&2
      exit 1
    fi
    echo "Below $threshold%: no restart needed."
    """,
)
MEMORY_RESTART = sh(
    """
    service={{ params.service }}
    systemctl restart -- "$service" || exit 1
    sleep 5
    if ! systemctl is-active --quiet -- "$service"; then
      systemctl status --no-pager --full --lines=20 -- "$service" >&2
      exit 1
    fi
    echo "Restarted $service."
    """
)
MEMORY_VERIFY = sh(
    """
    threshold={{ params.threshold }}
    free -m 2>/dev/null || grep -E '^(MemTotal|MemAvailable):' /proc/meminfo
    """,
    MEMORY_USED,
    """
    echo "Memory in use: $used%."
    if [ "$used" -ge "$threshold" ]; then
      echo "Memory is still at or above $threshold%." >&2
      exit 1
    fi
    """,
)

DISK_CLEANUP_TEMPLATE: dict[str, Any] = {
    "key": "disk-cleanup",
    "name": "Disk cleanup",
    "summary": "Free disk space: vacuum the journal, remove old rotated logs and old temporary files.",
    "description": (
        "Shows the usage and the largest directories, vacuums the systemd journal and removes rotated "
        "logs (*.gz, *.1, *.old, ...) under /var/log and files in /tmp and /var/tmp older than the "
        "given number of days, cleans APT's package cache, then shows the usage again. Current logs, "
        "Docker images and volumes are never touched. Needs root: turn on sudo for the provider."
    ),
    "category": Category.CLEANUP,
    "risk": Risk.LOW,
    "tags": ["maintenance", "storage"],
    "estimated_duration": timedelta(minutes=2),
    "parameters": [
        param("path", "The file system to report on.", default="/var", pattern=PATH_PATTERN),
        param(
            "days",
            "Remove rotated logs and temporary files older than this many days.",
            default="7",
            pattern=DAYS_PATTERN,
        ),
    ],
    "steps": [
        step("Disk usage before", DISK_BEFORE, timeout=120),
        step("Vacuum the journal and old rotated logs", DISK_LOGS, timeout=300),
        step("Remove old temporary files", DISK_TEMP, timeout=300),
        step("Disk usage after", DISK_AFTER, timeout=30),
    ],
}

MEMORY_CLEANUP_TEMPLATE: dict[str, Any] = {
    "key": "memory-cleanup",
    "name": "Memory cleanup",
    "summary": "Relieve memory pressure: drop the page cache, restart a service only if still needed.",
    "description": (
        "The runbook's four steps: show memory and the largest processes; drop the page cache and "
        "fail if memory in use is still at or above the threshold; only then restart the "
        "memory-intensive service; and verify memory is below the threshold. Dropping the cache and "
        "restarting need root: turn on sudo for the provider."
    ),
    "category": Category.CLEANUP,
    "risk": Risk.LOW,
    "tags": ["memory", "service"],
    "estimated_duration": timedelta(seconds=45),
    "parameters": [
        param(
            "service",
            "The memory-intensive systemd unit to restart when dropping the cache is not enough.",
            required=True,
            pattern=SERVICE_PATTERN,
        ),
        param(
            "threshold",
            "Restart the service if memory in use is still at or above this percentage.",
            default="90",
            pattern=PERCENT_PATTERN,
        ),
    ],
    "steps": [
        step("Check memory usage", MEMORY_CHECK, timeout=15),
        step("Clear the page cache", MEMORY_DROP_CACHES, timeout=60),
        step(
            "Restart the memory-intensive service",
            MEMORY_RESTART,
            timeout=120,
            retries=1,
            condition=IF_FAILED,
        ),
        step("Verify memory", MEMORY_VERIFY, timeout=15),
    ],
}
