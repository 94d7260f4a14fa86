"""Restarting a service."""

from datetime import timedelta
from typing import Any

from actions.choices import Category, Risk
from actions.template_library.base import IF_OK, SERVICE_PATTERN, URL_PATTERN, param, sh, step

# --- Service restart ---------------------------------------------------------------------------

SERVICE_CHECK = sh(
    """
    service={{ params.service }}
    systemctl status --no-pager --full --lines=20 -- "$service"
    rc=$?
    case $rc in
      0|1|2|3) echo "Unit $service is $(systemctl is-active -- "$service" 2>/dev/null)." ;;
      4) echo "There is no unit named $service on $(hostname)." >&2; exit 4 ;;
      *) exit "$rc" ;;
    esac
    """
)
SERVICE_RESTART = sh(
    """
    service={{ params.service }}
    systemctl restart -- "$service" || exit 1
    sleep 2
    if systemctl is-active --quiet -- "$service"; then
      echo "Restarted $service: it is active."
    else
      echo "$service did not stay up after the restart:" >&2
      systemctl status --no-pager --full --lines=20 -- "$service" >&2
      exit 1
    fi
    """
)
SERVICE_VERIFY = sh(
    """
    url={{ params.health_url }}
    curl -fsSI --max-time 10 "$url"
    """
)

SERVICE_RESTART_TEMPLATE: dict[str, Any] = {
    "key": "service-restart",
    "name": "Service restart",
    "summary": "Restart a failed systemd service with status checks before and after.",
    "description": (
        "Checks that the unit exists (a failed or stopped unit is fine: that is what the restart "
        "is for), restarts it with up to two retries, then checks that the service answers on its "
        "health URL. Needs root for the restart: turn on sudo for the provider. The check needs curl."
    ),
    "category": Category.RESTART,
    "risk": Risk.LOW,
    "tags": ["service", "systemd"],
    "estimated_duration": timedelta(seconds=45),
    "parameters": [
        param(
            "service",
            "The systemd unit to restart, e.g. nginx or php8.2-fpm.service.",
            required=True,
            pattern=SERVICE_PATTERN,
        ),
        param(
            "health_url",
            "A URL that must answer (2xx or 3xx) once the service is back.",
            default="http://localhost/",
            pattern=URL_PATTERN,
        ),
    ],
    "steps": [
        step("Check the unit", SERVICE_CHECK, timeout=15),
        step("Restart the service", SERVICE_RESTART, timeout=90, retries=2, retry_delay=5, condition=IF_OK),
        step("Verify it answers", SERVICE_VERIFY, timeout=15, retries=3, retry_delay=5, condition=IF_OK),
    ],
}
