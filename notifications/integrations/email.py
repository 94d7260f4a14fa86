"""Email through Django's mail (whatever EMAIL_BACKEND is configured): a text part and a simple
HTML alternative with inline styles (mail clients drop <style> blocks), to `target.address`, one or
more comma-separated addresses. The sender is `config["from_email"]` or DEFAULT_FROM_EMAIL.

SMTP answers decide the kind of error: 5xx (a refused recipient, a rejected message) is permanent;
4xx (greylisting, a full mailbox, a busy server) and connection failures are transient, so a
recipient refused only with 4xx codes is retried."""

import smtplib
from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from django.utils.html import format_html, format_html_join, linebreaks
from django.utils.safestring import mark_safe

from notifications.transport import Message, PermanentSendError, SendResult, Target, TransientSendError

TIMEOUT = 10
SEVERITY_COLOURS = {"P1": "#b42318", "P2": "#c4320a", "P3": "#b54708", "P4": "#175cd3"}
FONT = "font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif"


def render(message: Message) -> dict[str, Any]:
    """Subject, text and HTML bodies."""
    return {"subject": _subject(message.subject), "text": _text(message), "html": _html(message)}


def _subject(subject: str) -> str:
    # A newline in a header is refused by Django (header injection); a subject is one line anyway.
    return " ".join(subject.split())


def _text(message: Message) -> str:
    lines = [message.subject, ""]
    if message.bundled:
        lines += [f"(+{message.bundled} more events)", ""]
    if message.text:
        lines += [message.text, ""]
    lines += [f"{name}: {value}" for name, value in message.facts]
    if message.facts:
        lines.append("")
    if message.bridge_url:
        lines.append(f"Bridge: {message.bridge_url}")
    if message.url:
        lines.append(f"{message.url_label}: {message.url}")
    return "\n".join(lines).strip() + "\n"


def _html(message: Message) -> str:
    colour = SEVERITY_COLOURS.get(message.severity, "#344054")
    rows = format_html_join(
        "",
        '<tr><td style="padding:4px 12px 4px 0;color:#667085;vertical-align:top">{}</td>'
        '<td style="padding:4px 0;color:#101828">{}</td></tr>',
        message.facts,
    )
    links = []
    if message.url:
        links.append(
            format_html(
                '<a href="{}" style="display:inline-block;padding:8px 14px;background:{};color:#ffffff;'
                'text-decoration:none;border-radius:4px">{}</a>',
                message.url,
                colour,
                message.url_label,
            )
        )
    if message.bridge_url:
        links.append(
            format_html(
                '<a href="{}" style="display:inline-block;padding:8px 14px;color:{};'
                'text-decoration:underline">Join the bridge</a>',
                message.bridge_url,
                colour,
            )
        )
    bundled = (
        format_html('<p style="margin:0 0 12px;color:#667085">+{} more events</p>', message.bundled)
        if message.bundled
        else ""
    )
    return format_html(
        '<!DOCTYPE html><html><body style="margin:0;padding:16px;background:#f9fafb;{font}">'
        '<div style="max-width:640px;margin:0 auto;background:#ffffff;border:1px solid #eaecf0;'
        'border-top:4px solid {colour};border-radius:6px;padding:20px">'
        '<p style="margin:0 0 4px;color:#667085;font-size:13px">{label}</p>'
        '<h1 style="margin:0 0 16px;font-size:18px;color:#101828">{subject}</h1>{bundled}'
        '<div style="color:#344054;font-size:14px;line-height:1.5">{text}</div>'
        '<table style="margin:16px 0;font-size:14px;border-collapse:collapse">{rows}</table>'
        "<p>{links}</p></div></body></html>",
        font=FONT,
        colour=colour,
        label=message.event_label,
        subject=message.subject,
        bundled=bundled,
        text=mark_safe(linebreaks(message.text, autoescape=True)),  # linebreaks escaped the text
        rows=rows,
        links=format_html_join(" ", "{}", ((link,) for link in links)),
    )


def recipients(address: str) -> list[str]:
    """The comma-separated addresses, each checked; a bad one is a PermanentSendError."""
    found = [part.strip() for part in address.split(",") if part.strip()]
    if not found:
        raise PermanentSendError("Email: no recipient address.")
    for each in found:
        try:
            validate_email(each)
        except ValidationError:
            raise PermanentSendError(f"Email: {each[:254]!r} is not a valid address.") from None
    return found


def send(target: Target, message: Message) -> SendResult:
    rendered = render(message)
    try:
        to = recipients(target.address)
    except PermanentSendError as exc:
        raise PermanentSendError(str(exc), payload=rendered) from None
    payload = {"to": to, **rendered}
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(">") or None
    message_id = make_msgid(domain=domain)
    mail = EmailMultiAlternatives(
        subject=rendered["subject"],
        body=rendered["text"],
        from_email=target.config.get("from_email") or settings.DEFAULT_FROM_EMAIL,
        to=to,
        headers={
            **{name: " ".join(value.split()) for name, value in message.headers},
            "Message-ID": message_id,
            "Auto-Submitted": "auto-generated",
        },
        connection=get_connection(
            fail_silently=False, timeout=getattr(settings, "EMAIL_TIMEOUT", None) or TIMEOUT
        ),
    )
    mail.attach_alternative(rendered["html"], "text/html")
    try:
        mail.send()
    except smtplib.SMTPRecipientsRefused as exc:
        codes = {code for code, _ in exc.recipients.values()}
        refused = ", ".join(f"{address} ({code})" for address, (code, _) in exc.recipients.items())
        if codes and all(400 <= code < 500 for code in codes):
            raise TransientSendError(f"Email: recipients deferred: {refused}.", payload=payload) from None
        raise PermanentSendError(f"Email: recipients refused: {refused}.", payload=payload) from None
    except smtplib.SMTPResponseException as exc:  # sender refused, data refused, auth failed...
        detail = f"SMTP {exc.smtp_code} {_decode(exc.smtp_error)}".strip()
        if 400 <= exc.smtp_code < 500:
            raise TransientSendError(f"Email: {detail}.", payload=payload) from None
        raise PermanentSendError(f"Email: {detail}.", payload=payload) from None
    except (smtplib.SMTPException, OSError) as exc:  # disconnected, refused, timed out
        raise TransientSendError(
            f"Email: mail server unreachable ({type(exc).__name__}).", payload=payload
        ) from None
    return SendResult(provider_id=message_id, payload=payload)


def _decode(error: bytes | str) -> str:
    text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
    return " ".join(text.split())[:200]
