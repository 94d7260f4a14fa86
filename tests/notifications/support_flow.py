"""Running the notification tasks the way a worker would, in the test's own process: what a block
enqueued after commit (common.tasks.enqueue_on_commit) is taken by task name and run with its
keyword arguments through Celery's `Task.apply`, and what those tasks enqueue in turn, until nothing
is left. Messages whose eta lies ahead wait in `later` (a worker would hold them too); other apps'
tasks are kept in `others` and not run.

Channels and rules are made through the services, with a system actor, as the admin would."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.utils import timezone

from common.actor import Actor, Source
from common.outbox import registered_task
from notifications.choices import ChannelKind
from notifications.models import Channel, Delivery, NotificationRule
from notifications.services.channels import channel_save
from notifications.services.configuration import rule_save
from tests.notifications.conftest import SLACK_TOKEN, WEBHOOK_SECRET

SYSTEM = Actor.system(source=Source.TASK, label="tests")
PREFIX = "notifications.tasks."


class InlineWorker:
    def __init__(self, capture) -> None:
        self._capture = capture
        self.later: list[tuple[str, dict[str, Any], str | None, Any]] = []
        self.others: list[str] = []
        self.ran: list[tuple[str, dict[str, Any]]] = []

    @contextmanager
    def after(self) -> Iterator[None]:
        """Run the block, then every notification task it enqueued (and theirs, and so on)."""
        with self._capture() as callbacks:
            yield
        self._run(callbacks)

    def _run(self, callbacks) -> None:
        for callback in callbacks:
            if not getattr(callback, "args", None):
                continue  # Another kind of on-commit callback: not a task.
            name, ids = callback.args[0], callback.args[1]
            task_id, eta = callback.keywords.get("task_id"), callback.keywords.get("eta")
            if not name.startswith(PREFIX):
                self.others.append(name)
            elif eta is not None and eta > timezone.now() + timedelta(seconds=1):
                self.later.append((name, ids, task_id, eta))
            else:
                self.run_task(name, ids, task_id)

    def run_task(self, name: str, ids: dict[str, Any], task_id: str | None = None) -> None:
        with self._capture() as callbacks:
            registered_task(name).apply(kwargs=ids, task_id=task_id, throw=True)
            self.ran.append((name, ids))
        self._run(callbacks)

    def run_later(self, *, early: bool = False) -> int:
        """Deliver the held messages that are due (all of them with `early`: a send task that
        comes before its delivery is due does nothing). Returns how many ran."""
        soon = timezone.now() + timedelta(seconds=1)
        due = [held for held in self.later if early or held[3] <= soon]
        self.later = [held for held in self.later if held not in due]
        for name, ids, task_id, _ in due:
            self.run_task(name, ids, task_id)
        return len(due)

    def advance(self, seconds: float) -> None:
        """Time passes for the held messages: their etas come `seconds` sooner."""
        self.later = [
            (name, ids, task_id, eta - timedelta(seconds=seconds)) for name, ids, task_id, eta in self.later
        ]

    def sends(self) -> list[int]:
        return [ids["delivery_id"] for name, ids in self.ran if name == PREFIX + "delivery_send"]


def webhook_channel(receiver, name: str = "Ops webhook", path: str = "/hooks/ops", **config) -> Channel:
    return channel_save(
        by=SYSTEM,
        name=name,
        kind=ChannelKind.WEBHOOK,
        config={"url": f"{receiver.url}{path}", **config},
        secret=WEBHOOK_SECRET,
    )


def slack_bot_channel(slack_api, name: str = "Slack ops", channel: str = "#ops") -> Channel:
    return channel_save(
        by=SYSTEM, name=name, kind=ChannelKind.SLACK_BOT, config={"channel": channel}, secret=SLACK_TOKEN
    )


def email_channel(name: str = "Ops mail", to: tuple[str, ...] = ("ops@example.com",)) -> Channel:
    return channel_save(by=SYSTEM, name=name, kind=ChannelKind.EMAIL, config={"to": list(to)})


def rule(name: str, event_kinds: list[str], **fields) -> NotificationRule:
    return rule_save(by=SYSTEM, name=name, event_kinds=[str(kind) for kind in event_kinds], **fields)


def hits_of(receiver, path: str | None = None) -> list[dict]:
    """The JSON bodies a webhook receiver verified, optionally those sent to one path."""
    return [r.json for r in receiver.verified if path is None or r.path == path]


def backdate(delivery: Delivery, *, seconds: float) -> None:
    """Let time pass for one delivery: its next attempt comes `seconds` earlier (the backoff has
    run out). The test process cannot wait out real backoffs of minutes."""
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=delivery.next_attempt_at - timedelta(seconds=seconds)
    )
