"""Any other service through an apprise URL (the channel's secret, as it carries the service's
credentials: "tgram://<bot token>/<chat id>", "mailto://…", "json://host/path", …). Named so it does
not shadow the `apprise` package.

apprise reports only success or failure, so a failed notify is transient (the ledger retries it); an
URL apprise cannot parse, or the wrong kind of URL, is permanent. apprise keeps its socket
timeouts (4 s to connect, 4 s to read, within the 10 s every integration uses) and masks
credentials in its own logs; its persistent store stays in memory."""

import apprise

from notifications.transport import Message, PermanentSendError, SendResult, Target, TransientSendError

SEVERITY_TYPES = {"P1": apprise.NotifyType.FAILURE, "P2": apprise.NotifyType.WARNING}


def render(message: Message) -> dict[str, str]:
    """Title and plain-text body."""
    lines = [message.text] if message.text else []
    if message.bundled:
        lines.append(f"(+{message.bundled} more events)")
    if message.facts:
        lines.append("\n".join(f"{name}: {value}" for name, value in message.facts))
    links = [f"Bridge: {message.bridge_url}"] if message.bridge_url else []
    if message.url:
        links.append(message.url)
    if links:
        lines.append("\n".join(links))
    return {"title": message.subject, "body": "\n\n".join(lines) or message.subject}


def send(target: Target, message: Message) -> SendResult:
    payload = render(message)
    notifier = apprise.Apprise(asset=apprise.AppriseAsset(storage_mode=apprise.PersistentStoreMode.MEMORY))
    if not target.secret or not notifier.add(target.secret):
        raise PermanentSendError("Apprise: the channel's URL is not one apprise can use.", payload=payload)
    service = notifier[0].service_name or type(notifier[0]).__name__
    notify_type = SEVERITY_TYPES.get(message.severity, apprise.NotifyType.INFO)
    try:
        delivered = notifier.notify(
            title=payload["title"],
            body=payload["body"],
            body_format=apprise.NotifyFormat.TEXT,
            notify_type=notify_type,
        )
    except Exception as exc:  # a plugin's own bug must not escape as an unknown error
        raise TransientSendError(f"Apprise ({service}): {type(exc).__name__}.", payload=payload) from None
    if not delivered:
        raise TransientSendError(
            f"Apprise ({service}): the service did not accept the message.", payload=payload
        )
    return SendResult(payload={**payload, "service": service})
