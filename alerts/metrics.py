"""The webhook's Prometheus metrics, counted in the web processes (gunicorn workers write them to
PROMETHEUS_MULTIPROC_DIR; observability/ serves them). Labels are bounded: a source is named by its
slug only once its token is verified, "unknown" before that, so a caller cannot mint label values
with made-up URLs (nor put a token into one)."""

import json

from django.http import HttpRequest, HttpResponse
from prometheus_client import Counter, Histogram

UNKNOWN_SOURCE = "unknown"
# Set on the request by the view once the source is authenticated.
SOURCE_ATTRIBUTE = "alert_source_slug"

requests_received = Counter(
    "mitigate_alert_requests_received",
    "Webhook requests received, by alert source (unknown: not authenticated).",
    ["source"],
)
requests_refused = Counter(
    "mitigate_alert_requests_refused",
    "Webhook requests refused, by alert source and reason (the answer's error code).",
    ["source", "reason"],
)
alerts_accepted = Counter(
    "mitigate_alerts_accepted",
    "Alerts stored from accepted webhook requests (202), by alert source.",
    ["source"],
)
ingest_seconds = Histogram(
    "mitigate_alert_ingest_seconds",
    "Time the webhook took to answer, by outcome (accepted: 202, refused: any other answer).",
    ["outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def webhook_observe(*, request: HttpRequest, response: HttpResponse, seconds: float) -> None:
    """Count one answered webhook request. Reads the answer's own JSON (`stored`, or `code` on a
    refusal), so the view tells nothing twice."""
    source = getattr(request, SOURCE_ATTRIBUTE, None) or UNKNOWN_SOURCE
    requests_received.labels(source).inc()
    try:
        body = json.loads(response.content)
    except (ValueError, TypeError):
        body = {}
    if response.status_code == 202:
        alerts_accepted.labels(source).inc(int(body.get("stored", 0)))
        ingest_seconds.labels("accepted").observe(seconds)
    else:
        reason = body.get("code") if isinstance(body.get("code"), str) else f"http_{response.status_code}"
        requests_refused.labels(source, reason).inc()
        ingest_seconds.labels("refused").observe(seconds)
