"""What the executor needs from a place that runs commands. One runner per provider per run: the
executor connects once and runs every step of the run on that connection."""

from dataclasses import dataclass
from typing import Protocol


class RunnerError(Exception):
    """Could not reach or use the host. `code` is one of: unreachable, refused, timeout,
    auth_failed, host_key_unknown, host_key_mismatch, not_allowed, error."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class CommandResult:
    exit_code: int | None  # None when killed (timeout, cancel) or the channel died
    timed_out: bool = False
    cancelled: bool = False


class OutputSink(Protocol):
    """Receives output as it arrives and tells the runner when to give up."""

    def write(self, stream: str, data: bytes) -> None:
        """stream is "stdout" or "stderr"; called from the runner's thread as data arrives."""

    def cancelled(self) -> bool:
        """True once the run was cancelled: the runner kills the command and returns."""

    def started(self, group: dict) -> None:
        """The command runs as process group `group` ({"pgid", "start", ...}, see kill_group):
        called once per attempt as soon as the runner knows it, to be recorded."""


class Runner(Protocol):
    def connect(self) -> None:
        """Open the connection (raises RunnerError). Idempotent."""

    def run(self, command: str, *, timeout: int, sink: OutputSink) -> CommandResult:
        """Run one shell command; on timeout or cancel, kill it and everything it started on the
        host, and return what happened. Raises RunnerError when the connection fails."""

    def close(self) -> None:
        """Release the connection. Safe to call twice."""

    def kill_group(self, group: dict) -> str:
        """Kill a process group a runner of this kind started, possibly from a worker that has
        died since: only while its leader is still the process that was started (a reused pid is
        left alone). Returns what happened, for the timeline; raises RunnerError when the host
        cannot be reached."""
