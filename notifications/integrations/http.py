"""What the integrations that POST with requests (Teams, webhook) share: reading the provider's
answer into the ledger's terms."""

from email.utils import parsedate_to_datetime
from typing import Any

import requests
from django.utils import timezone

from notifications.transport import PermanentSendError, SendResult, TransientSendError


def retry_after(value: str | None) -> float | None:
    """Retry-After as seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max((parsedate_to_datetime(value) - timezone.now()).total_seconds(), 0.0)
    except (TypeError, ValueError):
        return None


def response_outcome(response: requests.Response, *, name: str, id_header: str, payload: Any) -> SendResult:
    """2xx is sent; 408/429 (with Retry-After) and 5xx are transient; any other status is permanent."""
    status = response.status_code
    if 200 <= status < 300:
        return SendResult(provider_id=response.headers.get(id_header, "")[:200], payload=payload)
    detail = f"HTTP {status} {response.reason or ''}".strip()
    if status in (408, 429):
        retry = retry_after(response.headers.get("Retry-After"))
        raise TransientSendError(f"{name}: {detail}.", retry_after=retry, payload=payload)
    if status >= 500:
        raise TransientSendError(f"{name}: {detail}.", payload=payload)
    raise PermanentSendError(f"{name} refused the message: {detail}.", payload=payload)
