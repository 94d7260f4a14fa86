"""With the operator's LOG_LEVEL at DEBUG, sending through every channel kind logs no secret: the
client libraries log request URLs and headers, and Slack, Teams and apprise URLs carry the secret."""

import logging
import logging.config

import pytest
from django.conf import settings as django_settings

from config.logging import logging_config
from notifications import integrations
from notifications.choices import ChannelKind
from notifications.transport import Target, secret_scrub
from tests.notifications.conftest import SLACK_TOKEN, TWILIO_SID, TWILIO_TOKEN, WEBHOOK_SECRET


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def debug_logs():
    logging.config.dictConfig(logging_config(level="DEBUG"))
    collect = Collect()
    logging.getLogger().addHandler(collect)
    yield collect
    logging.getLogger().removeHandler(collect)
    logging.config.dictConfig(django_settings.LOGGING)


def test_no_channel_kind_logs_its_secret(
    debug_logs, slack_api, teams_workflow, twilio_api, webhook_receiver, json_sink, message
):
    teams_url = f"{teams_workflow.url}/workflows/1/invoke?api-version=1&sig=TEAMSSIGSECRET"
    slack_hook = slack_api.webhook_url()
    apprise_url = f"json://{json_sink.host}:{json_sink.port}/apprise/APPRISESECRETPATH"
    targets = [
        Target(kind=ChannelKind.SLACK_WEBHOOK, config={}, secret=slack_hook),
        Target(kind=ChannelKind.SLACK_BOT, config={"channel": "C0INCIDENTS"}, secret=SLACK_TOKEN),
        Target(kind=ChannelKind.TEAMS, config={}, secret=teams_url),
        Target(
            kind=ChannelKind.SMS,
            config={"from_number": "+15550000000"},
            secret=f"{TWILIO_SID}:{TWILIO_TOKEN}",
            address="+15551234567",
        ),
        Target(
            kind=ChannelKind.WEBHOOK, config={"url": f"{webhook_receiver.url}/hook"}, secret=WEBHOOK_SECRET
        ),
        Target(kind=ChannelKind.APPRISE, config={}, secret=apprise_url),
    ]

    for target in targets:
        integrations.send(target, message)

    assert len(teams_workflow.requests) == len(webhook_receiver.requests) == len(json_sink.requests) == 1
    logged = "\n".join(debug_logs.lines)
    secret_part = slack_hook.rsplit("/", 1)[-1]
    secrets = (secret_part, SLACK_TOKEN, "TEAMSSIGSECRET", TWILIO_TOKEN, WEBHOOK_SECRET, "APPRISESECRETPATH")
    for secret in secrets:
        assert secret not in logged, secret


@pytest.mark.parametrize(
    ("secret", "error", "hidden"),
    [
        (
            "https://hooks.slack.com/services/T1/B1/SECRETPART",
            "Max retries exceeded with url: /services/T1/B1/SECRETPART (Caused by timeout)",
            "SECRETPART",
        ),
        (
            "https://x.logic.azure.com/workflows/1/invoke?api-version=1&sig=TEAMSSIG123",
            "POST https://x.logic.azure.com/workflows/1/invoke?api-version=1&sig=TEAMSSIG123 failed",
            "TEAMSSIG123",
        ),
        (f"{TWILIO_SID}:{TWILIO_TOKEN}", f"HTTP 401 for token {TWILIO_TOKEN}", TWILIO_TOKEN),
        ("json://u:APPRISEPASS@host/path", "cannot reach json://u:APPRISEPASS@host/path", "APPRISEPASS"),
    ],
)
def test_error_text_kept_on_a_delivery_loses_the_secret(secret, error, hidden):
    scrubbed = secret_scrub(error, secret)

    assert hidden not in scrubbed
    assert "***" in scrubbed
