"""Reading what a block enqueued after commit (common.tasks.enqueue_on_commit), by task name."""

from collections.abc import Callable


def enqueued(callbacks: list[Callable], prefix: str = "") -> list[str]:
    """Names of the tasks the captured on-commit callbacks publish, those starting with `prefix`."""
    names = [callback.args[0] for callback in callbacks if hasattr(callback, "args") and callback.args]
    return [name for name in names if name.startswith(prefix)]
