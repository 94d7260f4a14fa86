"""Local stand-ins for the providers the integrations talk to: real HTTP servers on 127.0.0.1 (an
ephemeral port, served from a thread) that speak just enough of each provider's API for its real
client (slack_sdk, twilio, requests, apprise) and record what arrived. Each can be told to answer
the next requests with a failure (`fail`), the way the provider does.

The webhook receiver checks our signature with its own code, written from the scheme documented in
notifications/integrations/webhook.py, not by importing ours."""

import base64
import email
import email.policy
import hashlib
import hmac
import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller


@dataclass
class Recorded:
    """One request as the server received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def form(self) -> dict[str, str]:
        return {key: values[-1] for key, values in parse_qs(self.body.decode()).items()}

    @property
    def data(self) -> dict[str, Any]:
        """The body as JSON or as a form, whichever the client sent."""
        if self.headers.get("content-type", "").startswith("application/json"):
            return self.json
        return self.form


@dataclass
class Reply:
    status: int
    body: Any = b""  # bytes, str or a JSON-ready value
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "text/plain"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return json.dumps(self.body).encode(), "application/json; charset=utf-8"


class Receiver:
    """A threaded HTTP server; subclasses answer in `handle(request) -> Reply`."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._script: list[Reply] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                request = Recorded(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={key.lower(): value for key, value in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                reply = receiver._answer(request)
                body, content_type = reply.encoded()
                self.send_response(reply.status)
                headers = {"Content-Type": content_type, **reply.headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _serve  # noqa: N815 (BaseHTTPRequestHandler's names)

            def log_message(self, format, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.host, self.port = self._server.server_address[:2]
        self.url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def start(self) -> "Receiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail(self, status: int, *, times: int = 1, body: Any = b"", headers: dict | None = None) -> None:
        """Answer the next `times` requests with this reply instead of the normal one."""
        with self._lock:
            self._script.extend(Reply(status, body, dict(headers or {})) for _ in range(times))

    def rate_limit(self, *, times: int = 1, retry_after: int = 30, body: Any = b"") -> None:
        self.fail(429, times=times, body=body, headers={"Retry-After": str(retry_after)})

    def _answer(self, request: Recorded) -> Reply:
        with self._lock:
            self.requests.append(request)
            scripted = self._script.pop(0) if self._script else None
        return scripted or self.handle(request)

    def handle(self, request: Recorded) -> Reply:
        raise NotImplementedError


class SlackApi(Receiver):
    """The Slack Web API methods the integrations call (answers as Slack does: HTTP 200 with
    `ok: false` for API errors) and incoming webhooks under /services/."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.missing_channels: set[str] = set()
        self.channels: dict[str, dict[str, Any]] = {}
        # users.info: Slack user id -> the user object Slack answers with (add_user).
        self.users: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)

    def add_user(self, user_id: str, email: str | None, *, name: str = "") -> None:
        """A workspace member; email None is a profile without one (no users:read.email scope)."""
        profile = {"real_name": name or user_id, **({"email": email} if email is not None else {})}
        self.users[user_id] = {"id": user_id, "name": name or user_id, "deleted": False, "profile": profile}

    def webhook_url(self, hook: str = "T000/B000/XXXXSECRETXXXX") -> str:
        return f"{self.url}/services/{hook}"

    def api_error(self, error: str, *, times: int = 1, status: int = 200) -> None:
        self.fail(status, times=times, body={"ok": False, "error": error})

    def channel_not_found(self, *, times: int = 1) -> None:
        """What an incoming webhook of a deleted channel answers: 404 with the error as text."""
        self.fail(404, times=times, body="channel_not_found")

    def handle(self, request: Recorded) -> Reply:
        if request.path.startswith("/services/"):
            if request.json is None or not ("text" in request.json or "blocks" in request.json):
                return Reply(400, "invalid_payload")
            return Reply(200, "ok")
        if not request.path.startswith("/api/"):
            return Reply(404, "not found")
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Reply(200, {"ok": False, "error": "invalid_auth"})
        method = request.path.removeprefix("/api/")
        # slack_sdk sends users.info as a GET with the arguments in the query string.
        data = request.data or {key: values[-1] for key, values in request.query.items()}
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return Reply(200, {"ok": False, "error": "unknown_method"})
        return Reply(200, handler(data))

    def _chat_postMessage(self, data):  # noqa: N802 (the Slack method's name)
        channel = data.get("channel", "")
        if not channel or channel in self.missing_channels:
            return {"ok": False, "error": "channel_not_found"}
        if channel in self.channels and self.channels[channel]["is_archived"]:
            return {"ok": False, "error": "is_archived"}
        ts = f"{int(time.time())}.{next(self._ids):06d}"
        message = {"text": data.get("text", ""), "ts": ts}
        if data.get("thread_ts"):
            message["thread_ts"] = data["thread_ts"]
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _conversations_create(self, data):
        name = data.get("name", "")
        if any(channel["name"] == name for channel in self.channels.values()):
            return {"ok": False, "error": "name_taken"}
        channel = {"id": f"C{next(self._ids):08d}", "name": name, "is_archived": False, "members": []}
        self.channels[channel["id"]] = channel
        return {"ok": True, "channel": channel}

    def _conversations_archive(self, data):
        channel = self.channels.get(data.get("channel", ""))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if channel["is_archived"]:
            return {"ok": False, "error": "already_archived"}
        channel["is_archived"] = True
        return {"ok": True}

    def _users_info(self, data):
        user = self.users.get(data.get("user", ""))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def _conversations_invite(self, data):
        channel = self.channels.get(data.get("channel", ""))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        channel["members"].extend(user for user in data.get("users", "").split(",") if user)
        return {"ok": True, "channel": channel}


class TeamsWorkflow(Receiver):
    """A Teams Workflows ("When a Teams webhook request is received") trigger: takes the message
    envelope with an Adaptive Card and answers 202."""

    @property
    def cards(self) -> list[dict]:
        return [r.json["attachments"][0]["content"] for r in self.requests if r.method == "POST"]

    def handle(self, request: Recorded) -> Reply:
        try:
            envelope = request.json
            attachment = envelope["attachments"][0]
            valid = (
                envelope["type"] == "message"
                and attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
                and attachment["content"]["type"] == "AdaptiveCard"
            )
        except (ValueError, KeyError, IndexError, TypeError):
            valid = False
        if not valid:
            return Reply(400, {"error": {"code": "InvalidRequestContent"}})
        return Reply(202)


class TwilioApi(Receiver):
    """Twilio's Messages resource (API 2010-04-01): basic auth with the account SID and auth token,
    a form body with To/From/Body, 201 with the message's SID; 400 code 21211 for an invalid To."""

    def __init__(self, sid: str, token: str, invalid_numbers: tuple[str, ...] = ("+15005550001",)) -> None:
        super().__init__()
        self.sid, self.token = sid, token
        self.invalid_numbers = set(invalid_numbers)
        self.messages: list[dict[str, str]] = []

    def handle(self, request: Recorded) -> Reply:
        path = f"/2010-04-01/Accounts/{self.sid}/Messages.json"
        expected = "Basic " + base64.b64encode(f"{self.sid}:{self.token}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return Reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
        if request.method != "POST" or request.path != path:
            return Reply(
                404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
            )
        form = request.form
        to = form.get("To", "")
        if to in self.invalid_numbers or not to.startswith("+"):
            message = f"The 'To' number {to} is not a valid phone number."
            return Reply(400, {"code": 21211, "message": message, "status": 400})
        sid = f"SM{hashlib.sha256(f'{len(self.messages)}{to}'.encode()).hexdigest()[:32]}"
        message = {"sid": sid, "to": to, "from": form.get("From", ""), "body": form.get("Body", "")}
        self.messages.append(message)
        return Reply(201, {**message, "account_sid": self.sid, "status": "queued", "num_segments": "1"})


def signature_valid(secret: str, headers: dict[str, str], body: bytes, *, tolerance: int = 300) -> bool:
    """A receiver's check, as the scheme is documented: HMAC-SHA256 keyed with the shared secret
    over "<timestamp>.<raw body>", hex, prefixed "v1="; the timestamp within five minutes."""
    timestamp = headers.get("x-mitigate-timestamp", "")
    signature = headers.get("x-mitigate-signature", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(f"v1={expected}", part.strip()) for part in signature.split(","))


class WebhookReceiver(Receiver):
    """A subscriber's endpoint: verifies the signature, records the body as verified (200) or
    unverified (401)."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret
        self.verified: list[Recorded] = []
        self.unverified: list[Recorded] = []

    def handle(self, request: Recorded) -> Reply:
        if signature_valid(self.secret, request.headers, request.body):
            self.verified.append(request)
            return Reply(200, {"received": True})
        self.unverified.append(request)
        return Reply(401, {"error": "bad signature"})


class JsonSink(Receiver):
    """Takes any JSON POST (apprise's json:// notifications) with 200."""

    def handle(self, request: Recorded) -> Reply:
        return Reply(200, {"ok": True})


# --- SMTP ------------------------------------------------------------------------------------------


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class SmtpServer:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 recording what it accepts. Recipients whose local
    part is "refused" get 550 at RCPT, "busy" get 451; `fail_data` answers the next DATA with a code."""

    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self.data_replies: list[str] = []
        self.host = "127.0.0.1"
        # aiosmtpd's controller connects to its own port once started, so it needs a known one.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((self.host, 0))
            self.port = sock.getsockname()[1]
        self._controller = Controller(self, hostname=self.host, port=self.port)

    def start(self) -> "SmtpServer":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def fail_data(self, reply: str) -> None:
        self.data_replies.append(reply)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        local = address.split("@", 1)[0]
        if local == "refused":
            return "550 5.1.1 No such user"
        if local == "busy":
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.data_replies:
            return self.data_replies.pop(0)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"
