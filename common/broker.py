"""A task message pushed straight onto a Redis broker's list, as kombu's Redis transport would push
it: one LPUSH on the process's persistent client. Celery's apply_async costs most of a webhook
request's CPU around that push (producer pool, routing, signals, the message built field by field,
a binding lookup in Redis): 2 ms against 0.3 ms for the push alone, measured on the bench machine.

Only the plain case goes this way: the Redis broker, a task routed to a queue on a direct exchange,
JSON, no ETA, no priority, no key prefix, not eager. Anything else, and any broker that is not Redis
(the filesystem broker of `make run`, the tests' in-memory one), takes apply_async. The message is
Celery's protocol 2, the fields apply_async writes (tests/common/test_broker.py compares the two and
has a real worker run one)."""

import base64
import json
import os
import uuid
from typing import Any

from celery import Task
from celery.utils.nodenames import anon_nodename

from common.redis_clients import redis_for

# What kombu's Redis transport pushes is JSON; its body, the serialized task, is base64 inside it.
_EMBED = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
# Celery cuts argsrepr/kwargsrepr (shown by monitoring tools, never run) to this.
_REPR_MAX = 1024

_queues: dict[tuple[str, str, str | None], str | None] = {}
_origin: tuple[int, str] | None = None


def redis_publish(task: Task, kwargs: dict[str, Any], *, task_id: str | None) -> bool:
    """Push the message for `task(**kwargs)`; False (nothing pushed) when this is not the plain case,
    for apply_async to do. Raises when Redis refuses, as apply_async would."""
    app = task._get_app()
    conf = app.conf
    if conf.task_always_eager or not conf.broker_url.startswith("redis://"):
        return False
    queue = _queue(task, conf.broker_url)
    if queue is None:
        return False
    if task.typing:
        task.__header__(**kwargs)  # The signature check apply_async makes: a TypeError here.
    task_id = task_id or str(uuid.uuid4())
    body = json.dumps([[], kwargs, _EMBED]).encode()
    message = {
        "body": base64.b64encode(body).decode(),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": {
            "lang": "py",
            "task": task.name,
            "id": task_id,
            "shadow": None,
            "eta": None,
            "expires": None,
            "group": None,
            "group_index": None,
            "retries": 0,
            "timelimit": [None, None],
            "root_id": task_id,
            "parent_id": None,
            "argsrepr": "()",
            "kwargsrepr": repr(kwargs)[:_REPR_MAX],
            "origin": _origin_name(),
            "ignore_result": task.ignore_result,
            "replaced_task_nesting": 0,
            "stamped_headers": None,
            "stamps": {},
        },
        "properties": {
            "correlation_id": task_id,
            "reply_to": app.thread_oid,
            "delivery_mode": 2,
            "delivery_info": {"exchange": "", "routing_key": queue},
            "priority": 0,
            "body_encoding": "base64",
            "delivery_tag": str(uuid.uuid4()),
        },
    }
    redis_for(conf.broker_url).lpush(queue, json.dumps(message))
    return True


def _queue(task: Task, url: str) -> str | None:
    """The Redis list of the task's queue (kombu's Redis transport keeps a queue's plain messages in
    a list of its name); None when the route asks for more than a queue on a direct exchange."""
    # The transport options are part of the key: a key prefix (set per test, or changed in settings)
    # sends the message through apply_async, and a queue found without one must not be reused.
    options = task._get_app().conf.broker_transport_options or {}
    key = (url, task.name, options.get("global_keyprefix"))
    if key not in _queues:
        _queues[key] = _plain_queue(task)
    return _queues[key]


def _plain_queue(task: Task) -> str | None:
    app = task._get_app()
    conf = app.conf
    if (
        conf.task_serializer != "json"
        or conf.task_compression
        or conf.task_default_delivery_mode not in (2, "persistent")
        or (conf.broker_transport_options or {}).get("global_keyprefix")
        or task.priority
        or getattr(task, "queue", None)
        or getattr(task, "exchange", None)
        or getattr(task, "routing_key", None)
        or task.time_limit
        or task.soft_time_limit
        or task.serializer not in (None, "json")
    ):
        return None
    options = app.amqp.router.route({}, task.name, (), {}, task)
    queue = options.get("queue")
    if set(options) - {"queue"} or queue is None or isinstance(queue, str):
        return None
    exchange = queue.exchange
    if exchange is None or exchange.type != "direct" or exchange.delivery_mode not in (None, 2):
        return None
    if queue.max_priority or (queue.queue_arguments or {}).get("x-max-priority"):
        return None
    return queue.name


def _origin_name() -> str:
    """Celery's origin header, "gen<pid>@<host>" (the pid changes across a fork)."""
    global _origin
    pid = os.getpid()
    if _origin is None or _origin[0] != pid:
        _origin = (pid, anon_nodename())
    return _origin[1]
