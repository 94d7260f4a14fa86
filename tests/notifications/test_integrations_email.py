import socket
from html.parser import HTMLParser

import pytest

from notifications import integrations
from notifications.choices import ChannelKind
from notifications.transport import PermanentSendError, Target, TransientSendError
from tests.hostile import HOSTILE


def to(address, **config):
    return Target(kind=ChannelKind.EMAIL, config=config, address=address)


def test_text_and_html_arrive(smtp, message):
    result = integrations.send(to("oncall@example.com"), message)

    [mail] = smtp.mails
    assert mail.rcpt_tos == ["oncall@example.com"]
    assert mail.mail_from == "mitigate@example.com"
    parsed = mail.message
    assert parsed["Subject"] == message.subject
    assert parsed["Message-ID"] == result.provider_id
    text = parsed.get_body(preferencelist=("plain",)).get_content()
    html = parsed.get_body(preferencelist=("html",)).get_content()
    assert "Checkout returns 500" in text
    assert "Status: Investigating" in text
    assert message.url in text
    assert f'href="{message.url}"' in html
    assert 'style="' in html
    assert "Investigating" in html
    assert result.payload["to"] == ["oncall@example.com"]


def test_several_addresses_and_a_configured_sender(smtp, message):
    integrations.send(to("a@example.com, b@example.com", from_email="ops@example.com"), message)

    [mail] = smtp.mails
    assert mail.rcpt_tos == ["a@example.com", "b@example.com"]
    assert mail.mail_from == "ops@example.com"


def test_html_escapes_user_text(smtp, make_message):
    integrations.send(to("oncall@example.com"), make_message(text="<script>alert(1)</script> & co"))

    html = smtp.mails[0].message.get_body(preferencelist=("html",)).get_content()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html


def test_subject_with_newlines_is_one_line(smtp, make_message):
    integrations.send(to("oncall@example.com"), make_message(subject="Line one\nBcc: victim@example.com"))

    parsed = smtp.mails[0].message
    assert parsed["Subject"] == "Line one Bcc: victim@example.com"
    assert smtp.mails[0].rcpt_tos == ["oncall@example.com"]


def test_refused_recipient_is_permanent(smtp, message):
    with pytest.raises(PermanentSendError, match="550"):
        integrations.send(to("refused@example.com"), message)

    assert smtp.mails == []


def test_recipient_deferred_with_4xx_is_transient(smtp, message):
    with pytest.raises(TransientSendError, match="451"):
        integrations.send(to("busy@example.com"), message)


def test_data_refused_5xx_is_permanent(smtp, message):
    smtp.fail_data("554 5.6.0 Message rejected")

    with pytest.raises(PermanentSendError, match="554"):
        integrations.send(to("oncall@example.com"), message)


def test_data_deferred_4xx_is_transient(smtp, message):
    smtp.fail_data("452 4.3.1 Insufficient system storage")

    with pytest.raises(TransientSendError, match="452"):
        integrations.send(to("oncall@example.com"), message)


def test_server_down_is_transient(settings, message):
    with socket.socket() as sock:  # a port nothing listens on once released
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False

    with pytest.raises(TransientSendError, match="unreachable"):
        integrations.send(to("oncall@example.com"), message)


@pytest.mark.parametrize(
    "address", ["", "not-an-address", "a@example.com, nope", "x@example.com\nBcc: y@z.com"]
)
def test_bad_address_is_permanent(smtp, message, address):
    with pytest.raises(PermanentSendError):
        integrations.send(to(address), message)

    assert smtp.mails == []


def test_render_preview(message):
    preview = integrations.render(ChannelKind.EMAIL, message)

    assert set(preview) == {"subject", "text", "html"}


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_values_arrive_escaped_in_one_message(smtp, make_message, value):
    integrations.send(
        to("oncall@example.com"), make_message(subject=value, text=value, facts=((value, value),))
    )

    [mail] = smtp.mails
    assert mail.rcpt_tos == ["oncall@example.com"]
    assert "\n" not in mail.message["Subject"]
    html = mail.message.get_body(preferencelist=("html",)).get_content()
    assert tags(html) <= {"html", "body", "div", "p", "h1", "table", "tr", "td", "a", "br"}


def tags(html: str) -> set[str]:
    found = set()

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.add(tag)

    Collector().feed(html)
    return found


def test_any_configured_backend_works(mailoutbox, message):
    """The channel uses whatever EMAIL_BACKEND says (here pytest-django's locmem outbox)."""
    result = integrations.send(to("oncall@example.com"), message)

    [mail] = mailoutbox
    assert mail.to == ["oncall@example.com"]
    assert mail.extra_headers["Message-ID"] == result.provider_id
    assert mail.alternatives[0][1] == "text/html"
