import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


@dataclass
class Delivery:
    """One message as the SMTP server received it: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Mailbox:
    """What a real SMTP server received, message by message, in order."""

    host: str
    port: int
    deliveries: list[Delivery] = field(default_factory=list)
    # handle_DATA waits on this when set: lets a test hold a send in flight.
    hold: threading.Event | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __len__(self) -> int:
        return len(self.deliveries)

    @property
    def messages(self) -> list[EmailMessage]:
        return [d.message for d in self.deliveries]

    def to(self, address: str) -> list[EmailMessage]:
        return [d.message for d in self.deliveries if address in d.rcpt_tos]

    def clear(self) -> None:
        with self.lock:
            self.deliveries.clear()


class CollectingHandler:
    def __init__(self, mailbox: Mailbox):
        self.mailbox = mailbox

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        if self.mailbox.hold is not None:
            self.mailbox.hold.wait(timeout=5)
        with self.mailbox.lock:
            self.mailbox.deliveries.append(
                Delivery(mail_from=envelope.mail_from, rcpt_tos=list(envelope.rcpt_tos), message=message)
            )
        return "250 Message accepted for delivery"


def free_port() -> int:
    """A port nothing listens on (bound then released): connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _smtp_settings(settings, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on 127.0.0.1, with Django's SMTP backend pointed at it."""
    port = free_port()
    mailbox = Mailbox(host="127.0.0.1", port=port)
    controller = Controller(CollectingHandler(mailbox), hostname="127.0.0.1", port=port)
    controller.start()
    _smtp_settings(settings, port)
    try:
        yield mailbox
    finally:
        if mailbox.hold is not None:
            mailbox.hold.set()
        controller.stop()
