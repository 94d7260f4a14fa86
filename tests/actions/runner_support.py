"""What the runner tests share: a sink that records what arrives, and checks on processes."""

import threading
import time
from collections.abc import Callable
from pathlib import Path


class RecordingSink:
    """Collects output in arrival order; `cancel_when(sink)` decides when to cancel."""

    def __init__(self, cancel_when: Callable[["RecordingSink"], bool] | None = None):
        self.chunks: list[tuple[str, bytes]] = []
        self.groups: list[dict] = []
        self.cancel_when = cancel_when
        self.on_write: Callable[[str, bytes], None] | None = None

    def write(self, stream: str, data: bytes) -> None:
        assert stream in ("stdout", "stderr")
        self.chunks.append((stream, data))
        if self.on_write:
            self.on_write(stream, data)

    def cancelled(self) -> bool:
        return bool(self.cancel_when and self.cancel_when(self))

    def started(self, group: dict) -> None:
        self.groups.append(group)

    @property
    def stdout(self) -> bytes:
        return b"".join(data for stream, data in self.chunks if stream == "stdout")

    @property
    def stderr(self) -> bytes:
        return b"".join(data for stream, data in self.chunks if stream == "stderr")


def alive(pid: int) -> bool:
    """Running (a zombie nobody reaped yet counts as gone: nothing reaps orphans in a container)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    state = stat.rpartition(")")[2].split()[0]
    return state not in ("Z", "X")


def gone_soon(pid: int, seconds: float = 5) -> bool:
    """True once the process is gone; a kill is not instantaneous, so allow it a moment."""
    until = time.monotonic() + seconds
    while alive(pid):
        if time.monotonic() > until:
            return False
        time.sleep(0.05)
    return True


def wait_for_file(path: Path, seconds: float = 10) -> str:
    until = time.monotonic() + seconds
    while True:
        if path.exists() and path.read_text().endswith("\n"):
            return path.read_text()
        if time.monotonic() > until:
            raise AssertionError(f"{path} was not written")
        time.sleep(0.05)


def start_time(pid: int) -> int:
    """A process's start time in clock ticks since boot (/proc/<pid>/stat, field 22)."""
    return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[19])


class Background:
    """runner.run(...) in a thread, as a worker runs a step: `group` once the runner reported it."""

    def __init__(self, runner, command: str, *, timeout: int):
        self.sink = RecordingSink()
        self.result = None
        self.thread = threading.Thread(target=self._run, args=(runner, command, timeout), daemon=True)
        self.thread.start()
        until = time.monotonic() + 20
        while not self.sink.groups:
            assert time.monotonic() < until, "the runner never reported the process group"
            time.sleep(0.05)
        self.group = self.sink.groups[0]

    def _run(self, runner, command: str, timeout: int) -> None:
        self.result = runner.run(command, timeout=timeout, sink=self.sink)

    def join(self, seconds: float = 20):
        self.thread.join(seconds)
        assert not self.thread.is_alive(), "the command outlived the kill"
        return self.result
