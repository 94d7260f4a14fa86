"""Who may read /metrics: a bearer token (METRICS_TOKEN) or an address in METRICS_ALLOWED_NETWORKS.
With neither configured nobody may: the endpoint is never open by default."""

import hmac
import ipaddress
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

from common.throttles import client_ip


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    detail: str


NOT_CONFIGURED = Refusal(
    403,
    "metrics_not_configured",
    "The metrics endpoint is off: set METRICS_TOKEN or METRICS_ALLOWED_NETWORKS to allow scraping.",
)
NOT_AUTHENTICATED = Refusal(401, "not_authenticated", "Missing or wrong bearer token for /metrics.")
NETWORK_REFUSED = Refusal(403, "network_not_allowed", "This address may not read /metrics.")


def _token_valid(request: HttpRequest, token: str) -> bool:
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    # Bytes, not str: compare_digest refuses non-ASCII str, and a header may hold anything.
    return scheme.lower() == "bearer" and hmac.compare_digest(
        presented.strip().encode("utf-8", "replace"), token.encode("utf-8")
    )


def _address_allowed(request: HttpRequest, networks: list) -> bool:
    try:
        address = ipaddress.ip_address((client_ip(request) or "").strip())
    except ValueError:
        return False
    return any(address in network for network in networks)


def scrape_refusal(request: HttpRequest) -> Refusal | None:
    """None when the request may scrape, else why not."""
    token, networks = settings.METRICS_TOKEN, settings.METRICS_ALLOWED_NETWORKS
    if not token and not networks:
        return NOT_CONFIGURED
    if token and _token_valid(request, token):
        return None
    if networks and _address_allowed(request, networks):
        return None
    return NOT_AUTHENTICATED if token else NETWORK_REFUSED
