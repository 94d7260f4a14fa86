"""The demo's webhook receiver (manage.py notification_receiver): a small HTTP server on 127.0.0.1
that takes Mitigate's signed webhook posts, verifies them the way any subscriber should (the scheme
in notifications/integrations/webhook.py, checked here with code of its own rather than by calling
`sign`), and prints each message readably.

`make run` starts it as the Procfile's `receiver` process; honcho gives it PORT = the web server's
port + RECEIVER_PORT_OFFSET (the fifth Procfile line), which is where seed_demo points the demo's
webhook channel. The signing secret is shared through RECEIVER_SECRET_FILE in VAR_DIR (written by
seed_demo, mode 0600) or the environment variable RECEIVER_SECRET_ENV."""

import hashlib
import hmac
import json
import os
import textwrap
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from django.conf import settings

RECEIVER_SECRET_ENV = "MITIGATE_RECEIVER_SECRET"
RECEIVER_SECRET_FILE = "demo-webhook-secret"
# honcho adds 100 per Procfile line: web, worker, beat, banner, receiver.
RECEIVER_PORT_OFFSET = 400
TOLERANCE_SECONDS = 300
MAX_BODY_BYTES = 1024 * 1024
TIMESTAMP_HEADER = "X-Mitigate-Timestamp"
SIGNATURE_HEADER = "X-Mitigate-Signature"


def receiver_secret_path() -> Path:
    return Path(settings.VAR_DIR) / RECEIVER_SECRET_FILE


def receiver_port() -> int:
    """Where `make run`'s receiver listens: the web server's port plus its Procfile offset."""
    return settings.WEB_PORT + RECEIVER_PORT_OFFSET


def receiver_url() -> str:
    return f"http://127.0.0.1:{receiver_port()}/"


def secret_file_read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def signature_check(secret: str, timestamp: str, signature: str, body: bytes, now: float) -> str:
    """ "" when the request is genuine, else why not (for the log; the sender only sees 401)."""
    if not secret:
        return "no signing secret configured"
    if not timestamp.isdigit():
        return f"missing or malformed {TIMESTAMP_HEADER}"
    if abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        return f"timestamp {timestamp} is more than {TOLERANCE_SECONDS} s from this clock"
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    expected = f"v1={digest}"
    # While a secret is rotated the header may carry several signatures; any one may match.
    if any(hmac.compare_digest(expected, candidate.strip()) for candidate in signature.split(",")):
        return ""
    return "bad signature" if signature else f"missing {SIGNATURE_HEADER}"


def message_format(payload: dict[str, Any], received_at: float) -> str:
    """A posted message as a few readable lines: when, what, which incident, subject and text."""
    incident = payload.get("incident") or {}
    reference = incident.get("reference") or "(no incident)"
    severity = f" {incident['severity']}" if incident.get("severity") else ""
    kind = payload.get("event") or "?"
    label = payload.get("event_label") or kind
    clock = time.strftime("%H:%M:%S", time.localtime(received_at))
    lines = [
        f"{clock}  {label} [{kind}]  {reference}{severity}",
        f"  {payload.get('subject') or '(no subject)'}",
    ]
    text = str(payload.get("text") or "").strip()
    if text:
        lines += [textwrap.indent(paragraph, "    ") for paragraph in text.splitlines() if paragraph.strip()]
    if payload.get("bundled"):
        lines.append(f"    (+{payload['bundled']} more events bundled into this message)")
    if payload.get("url"):
        lines.append(f"    {payload['url']}")
    return "\n".join(lines)


class DemoReceiver:
    """A threaded HTTP server that verifies and prints. `secret` returns the current secret (read
    on each request, so a secret seed_demo rotates takes effect without a restart); `show` and
    `warn` take the printed text; `on_message` (tests, the bench) gets each verified payload."""

    def __init__(
        self,
        *,
        port: int,
        secret: Callable[[], str],
        show: Callable[[str], None],
        warn: Callable[[str], None],
        on_message: Callable[[dict[str, Any], float], None] | None = None,
    ) -> None:
        receiver = self
        self.accepted = 0
        self.rejected = 0
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "MitigateDemoReceiver/1"

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._reply(200, {"receiver": "Mitigate demo webhook receiver", "post": "signed JSON"})

            def do_POST(self) -> None:
                received_at = time.time()
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                except ValueError:
                    length = -1
                if length < 0 or length > MAX_BODY_BYTES:
                    self.close_connection = True
                    receiver._refuse(warn, self, 413, "body missing a length or too large")
                    return
                body = self.rfile.read(length)
                problem = signature_check(
                    secret(),
                    self.headers.get(TIMESTAMP_HEADER, ""),
                    self.headers.get(SIGNATURE_HEADER, ""),
                    body,
                    received_at,
                )
                if problem:
                    receiver._refuse(warn, self, 401, problem)
                    return
                try:
                    payload = json.loads(body)
                    if not isinstance(payload, dict):
                        raise ValueError("not an object")
                except ValueError:
                    receiver._refuse(warn, self, 400, "signed, but not a JSON object")
                    return
                with receiver._lock:
                    receiver.accepted += 1
                    show(message_format(payload, received_at))
                if on_message is not None:
                    on_message(payload, received_at)
                self._reply(200, {"received": True})

            def log_message(self, format: str, *args: Any) -> None:
                pass  # One line per message is printed above; the access log would double it.

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"

    def _refuse(self, warn: Callable[[str], None], handler: BaseHTTPRequestHandler, status: int, why: str):
        with self._lock:
            self.rejected += 1
            client = handler.client_address[0]
            warn(f"Rejected {handler.command} {handler.path} from {client}: {why} ({status}).")
        handler._reply(status, {"error": why if status != 401 else "signature not verified"})

    def serve_forever(self) -> None:
        self.server.serve_forever(poll_interval=0.2)

    def start(self) -> "DemoReceiver":
        """Serve from a daemon thread (tests, the bench)."""
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def secret_source(secret_file: Path | None) -> tuple[Callable[[], str], str]:
    """The secret reader and a description of it: the environment variable when set, else the file."""
    from_env = os.environ.get(RECEIVER_SECRET_ENV, "").strip()
    if from_env:
        return (lambda: from_env), f"${RECEIVER_SECRET_ENV}"
    path = secret_file or receiver_secret_path()
    return (lambda: secret_file_read(path)), str(path)
