"""Captured output of one step on one host: capped, and written to the StepRun about once a
second while the command runs, so the admin shows progress. The writes go through the run's
StepWrites, so a host on a pool thread needs no database connection of its own."""

import threading
import time

from actions.services.step_writes import StepWrites

FLUSH_SECONDS = 1.0


def _text(data: bytes) -> str:
    # PostgreSQL text cannot hold NUL; undecodable bytes show as U+FFFD rather than failing.
    return data.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


class StepOutput:
    """The runner's OutputSink for one StepRun."""

    def __init__(self, *, step_run_id: int, writes: StepWrites, cap: int):
        self.step_run_id = step_run_id
        self.writes = writes
        self.cap = cap
        self.buffers = {"stdout": bytearray(), "stderr": bytearray()}
        self.truncated = {"stdout": False, "stderr": False}
        self._dirty = False
        self._last_flush = time.monotonic()
        self._lock = threading.Lock()

    def write(self, stream: str, data: bytes) -> None:
        with self._lock:
            buffer = self.buffers[stream]
            room = self.cap - len(buffer)
            if len(data) > room:
                self.truncated[stream] = True
                data = data[: max(room, 0)]
            buffer.extend(data)
            self._dirty = True
        self.flush()

    def note(self, text: str) -> None:
        """A line of our own in stdout, e.g. the start of a retry."""
        self.write("stdout", text.encode())

    def fields(self) -> dict:
        """The StepRun columns for what was captured so far."""
        with self._lock:
            self._dirty = False
            self._last_flush = time.monotonic()
            return {
                "stdout": _text(bytes(self.buffers["stdout"])),
                "stderr": _text(bytes(self.buffers["stderr"])),
                "stdout_truncated": self.truncated["stdout"],
                "stderr_truncated": self.truncated["stderr"],
            }

    def flush(self) -> None:
        """Write the output if it changed and the last write is a second old."""
        with self._lock:
            if not self._dirty or time.monotonic() - self._last_flush < FLUSH_SECONDS:
                return
        self.writes.update(self.step_run_id, self.fields())

    def started(self, group: dict) -> None:
        """Written at once, not with the output: a worker killed a second later must leave the
        sweeper the group to kill."""
        self.writes.update(self.step_run_id, {"process_group": group})

    def cancelled(self) -> bool:
        """Asked by the runner while the command runs: output held back by a quiet command is
        written here too."""
        self.flush()
        return self.writes.cancelled()
