import pytest

from tests.notifications.receivers import (
    JsonSink,
    SlackApi,
    SmtpServer,
    TeamsWorkflow,
    TwilioApi,
    WebhookReceiver,
)
from tests.notifications.support_workers import notification_workers, redis_broker  # noqa: F401 (fixtures)

SLACK_TOKEN = "xoxb-0000-test-bot-token"
TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "twilio-auth-token-secret"
WEBHOOK_SECRET = "whsec-shared-signing-secret"


@pytest.fixture
def slack_api(settings):
    """A Slack Web API and incoming-webhook stand-in; slack_sdk's WebClient reaches it through
    settings.NOTIFICATIONS_SLACK_API_URL (its base_url), the WebhookClient through the URL."""
    receiver = SlackApi(token=SLACK_TOKEN).start()
    settings.NOTIFICATIONS_SLACK_API_URL = f"{receiver.url}/api/"
    yield receiver
    receiver.stop()


@pytest.fixture
def teams_workflow():
    receiver = TeamsWorkflow().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def twilio_api(settings):
    """Twilio's Messages API; the twilio client reaches it through
    settings.NOTIFICATIONS_TWILIO_API_URL."""
    receiver = TwilioApi(sid=TWILIO_SID, token=TWILIO_TOKEN).start()
    settings.NOTIFICATIONS_TWILIO_API_URL = receiver.url
    yield receiver
    receiver.stop()


@pytest.fixture
def webhook_receiver():
    receiver = WebhookReceiver(secret=WEBHOOK_SECRET).start()
    yield receiver
    receiver.stop()


@pytest.fixture
def json_sink():
    receiver = JsonSink().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def smtp(settings):
    """aiosmtpd on 127.0.0.1 with Django's SMTP backend pointed at it."""
    server = SmtpServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "Mitigate <mitigate@example.com>"
    yield server
    server.stop()


@pytest.fixture
def make_message():
    """A rendered incident-opened message; keyword arguments replace its fields."""
    from notifications.transport import Message

    def make(**changes) -> Message:
        fields = {
            "event_kind": "incident_opened",
            "event_label": "Incident opened",
            "subject": "[P1] INC-2026-0042 opened: Checkout errors",
            "text": "Checkout returns 500 for 30% of requests.\n\nImpact: customers cannot pay.",
            "url": "https://mitigate.example.com/incidents/42/",
            "facts": (("Status", "Investigating"), ("Priority", "P1 - Critical"), ("Services", "checkout")),
            "severity": "P1",
            "incident_id": 42,
            "incident_reference": "INC-2026-0042",
            "data": {"incident": {"id": 42, "reference": "INC-2026-0042"}, "event": "incident_opened"},
        }
        fields.update(changes)
        return Message(**fields)

    return make


@pytest.fixture
def message(make_message):
    return make_message()


@pytest.fixture
def worker(django_capture_on_commit_callbacks):
    """Runs the notification tasks a block enqueues, in this process (support_flow.InlineWorker)."""
    from tests.notifications.support_flow import InlineWorker

    return InlineWorker(lambda: django_capture_on_commit_callbacks(execute=False))


@pytest.fixture
def no_default_rules(db):
    """The migration's default rules out of the way, for tests that configure their own."""
    from notifications.models import NotificationRule

    NotificationRule.objects.all().delete()
