import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from common.actor import Actor, Source
from config.celery import app
from incidents.services import incident_acknowledge, incident_create, incident_resolve, incident_role_assign
from postmortems.models import Postmortem
from postmortems.services import postmortem_create, postmortem_submit, postmortem_update
from tests.actions.api_support import client_for, token_client
from tests.factories import ServiceFactory, UserFactory
from tests.incidents.api_support import drive
from tests.postmortems import api_support
from tests.postmortems.mail_support import SECTIONS, as_, mail_settings


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


@pytest.fixture
def human(responder) -> Actor:
    return Actor(user=responder, source=Source.API)


@pytest.fixture
def approver_actor(user_factory) -> Actor:
    return Actor(user=user_factory(username="approver", groups=["Approver"]), source=Source.API)


@pytest.fixture
def postmortem_mail(settings):
    """The site, sender, stakeholders and due-soon horizon the email tests expect."""
    mail_settings(settings)


@pytest.fixture
def eager_celery():
    """Tasks enqueued on commit run in-process, as a worker would run them."""
    saved = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def people(db):
    return {
        "commander": UserFactory(username="cmd", first_name="Cora", last_name="Mander", groups=["Responder"]),
        "assignee": UserFactory(username="oncall", groups=["Responder"]),
        "tech": UserFactory(username="tech", groups=["Responder"]),
        "scribe": UserFactory(username="scribe", groups=["Responder"]),
        "writer": UserFactory(username="writer", groups=["Responder"]),
        "approver": UserFactory(username="approver", groups=["Approver"]),
        "outsider": UserFactory(username="outsider", groups=["Responder"]),
        "nomail": UserFactory(username="nomail", email="", groups=["Responder"]),
    }


@pytest.fixture
def resolved_p1(people, priorities):
    """A P1 driven to resolved through the incident services, with people in every role."""
    service = ServiceFactory(
        name="Payments API", slug="payments-api", owner_email="payments-team@example.com"
    )
    incident = incident_create(
        by=as_(people["assignee"]),
        title="Payments fail with 500",
        priority=priorities["P1"],
        services=[service],
        commander=people["commander"],
    )
    incident = incident_acknowledge(incident=incident, by=as_(people["assignee"]))
    incident = incident_role_assign(
        incident=incident, by=as_(people["commander"]), role="technical_lead", user=people["tech"]
    )
    incident = incident_role_assign(
        incident=incident, by=as_(people["commander"]), role="scribe", user=people["scribe"]
    )
    incident = incident_role_assign(
        incident=incident, by=as_(people["commander"]), role="communications_lead", user=people["nomail"]
    )
    return incident_resolve(incident=incident, by=as_(people["assignee"]), summary="Rolled back release 42.")


@pytest.fixture
def in_review(resolved_p1, people):
    """The post-mortem drafted, written by the commander and a writer, and submitted."""
    postmortem = postmortem_create(incident=resolved_p1, by=as_(people["writer"]))
    postmortem = postmortem_update(
        postmortem=postmortem,
        by=as_(people["writer"]),
        data=SECTIONS,
        authors=[people["commander"], people["writer"]],
    )
    return postmortem_submit(postmortem=postmortem, by=as_(people["writer"]))


# --- The REST API tests' clients and post-mortems -------------------------------------------------


@pytest.fixture
def client_as(user_factory):
    def make(group: str):
        if group == "anonymous":
            return client_for(None)
        return token_client(user_factory(username=f"{group.lower()}-member", groups=[group]))

    return make


@pytest.fixture
def responder_client(responder):
    return token_client(responder)


@pytest.fixture
def resolved_incident(open_incident, actor, service_factory):
    def make(**kwargs):
        kwargs.setdefault("services", [service_factory(slug="checkout")])
        incident = open_incident(**kwargs)
        return drive(incident, "resolved", by=actor)

    return make


@pytest.fixture
def make_postmortem(resolved_incident, actor):
    def make(ready: bool = False, **kwargs) -> Postmortem:
        postmortem = postmortem_create(incident=resolved_incident(**kwargs), by=actor)
        if ready:
            postmortem = postmortem_update(postmortem=postmortem, by=actor, data=dict(api_support.SECTIONS))
        return postmortem

    return make


@pytest.fixture
def approver(db):
    return UserFactory(username="approver", groups=["Approver"])


@pytest.fixture
def resolved(open_incident, actor):
    """Make a P2 incident resolved through the services."""

    def make(**kwargs):
        incident = open_incident(**kwargs)
        incident = incident_acknowledge(incident=incident, by=actor)
        return incident_resolve(incident=incident, by=actor, summary="Rolled back the deploy.")

    return make


@pytest.fixture
def postmortem(resolved, actor) -> Postmortem:
    return postmortem_create(incident=resolved(), by=actor)
