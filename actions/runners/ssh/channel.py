"""One command's channel: its output passed on as it arrives, and its pid taken off stderr."""

import select

import paramiko

from actions.runners.base import OutputSink
from actions.runners.ssh.commands import PID_MARKER

MARKER_SEARCH_BYTES = 64 * 1024  # stderr held back while looking for the marker, at most


class Discard:
    def write(self, stream: str, data: bytes) -> None:
        pass

    def started(self, group: dict) -> None:
        pass

    def cancelled(self) -> bool:
        return True


DISCARD = Discard()


class Execution:
    """One command's channel: reads stdout and stderr as they arrive into the sink, and takes the
    pid marker off the front of stderr."""

    def __init__(self, channel: paramiko.Channel, sink: OutputSink):
        self.channel = channel
        self.sink = sink
        self.pid: int | None = None
        self._stderr_head: bytes | None = b""  # None once the marker line is dealt with
        # poll, not select: a busy worker may hold file descriptors past select's limit of 1024.
        self._poller = select.poll()
        self._poller.register(channel.fileno(), select.POLLIN)

    def wait(self, seconds: float) -> None:
        """Until something happens on the channel, or `seconds` pass."""
        if self.channel.eof_received or self.channel.closed:
            # The data pipe stays readable after EOF; what is left to wait for is the exit status.
            self.channel.status_event.wait(seconds)
        else:
            self._poller.poll(seconds * 1000)

    def drain(self) -> bool:
        """Pass on what has arrived; True if anything had."""
        channel = self.channel
        got = False
        while channel.recv_ready():
            self.sink.write("stdout", channel.recv(65536))
            got = True
        while channel.recv_stderr_ready():
            self._stderr(channel.recv_stderr(65536))
            got = True
        return got

    def finished(self) -> bool:
        channel = self.channel
        done = channel.closed or (channel.eof_received and channel.exit_status_ready())
        return done and not channel.recv_ready() and not channel.recv_stderr_ready()

    def flush(self) -> None:
        """At the end: stderr that never completed its first line is output, not a marker."""
        if self._stderr_head:
            self.sink.write("stderr", self._stderr_head)
        self._stderr_head = None

    def _stderr(self, data: bytes) -> None:
        if self._stderr_head is None:
            self.sink.write("stderr", data)
            return
        # Lines before the marker come from the login shell's startup files (the command has not
        # started yet): they are passed on; the marker line is not.
        head = self._stderr_head + data
        start = 0
        while (end := head.find(b"\n", start)) != -1:
            line = head[start:end]
            pid, _, ticks = line[len(PID_MARKER) :].partition(b":")
            if line.startswith(PID_MARKER) and pid.isdigit() and (ticks.isdigit() or not ticks):
                self.pid = int(pid)
                self._stderr_head = None
                self.sink.started({"pgid": self.pid, "start": int(ticks) if ticks else None})
                rest = head[:start] + head[end + 1 :]
                if rest:
                    self.sink.write("stderr", rest)
                return
            start = end + 1
        self._stderr_head = head
        if len(head) > MARKER_SEARCH_BYTES:
            self.flush()
