"""Commands on the worker's own machine, only where ALLOW_LOCAL_PROVIDER is on.

Each command runs as `/bin/sh -c <command>` leading a process group of its own, so a timeout or a
cancel kills its whole process group with SIGKILL. A group, not a new session: Python starts a
process that calls setsid() with fork() rather than vfork() (2.6 ms against 0.3 ms for a Celery
worker's heap, and the command started 4 ms later), on an alert's way to its first step. The
command stays in the worker's session; its input is /dev/null, its output pipes, and its group is
never a terminal's foreground group (Ctrl-C under `make run` reaches the worker, not it).

The group is reported to the sink with the leader's start time and this machine's identity: when
the worker dies mid-step, the sweeper (on this machine) kills the group while its leader is still
the process we started.
"""

import contextlib
import os
import selectors
import signal
import socket
import subprocess
import time
from pathlib import Path

from django.conf import settings

from actions.runners.base import CommandResult, OutputSink, RunnerError

POLL_SECONDS = 0.2
# After the command exited or was killed, how long a leftover child may keep its output open.
SETTLE_SECONDS = 3
PROC = Path("/proc")
BOOT_ID = PROC / "sys/kernel/random/boot_id"


class LocalRunner:
    """Runner for a local provider. Nothing to connect to; connect() checks it is allowed."""

    def __init__(self, provider=None):
        self.provider = provider

    def connect(self) -> None:
        if not settings.ALLOW_LOCAL_PROVIDER:
            raise RunnerError(
                "not_allowed",
                "Local providers are off on this worker: set ALLOW_LOCAL_PROVIDER=true to run "
                "commands on the worker's own machine.",
            )

    def run(self, command: str, *, timeout: int, sink: OutputSink) -> CommandResult:
        self.connect()
        try:
            process = subprocess.Popen(
                ["/bin/sh", "-c", command],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                process_group=0,  # setpgid(0, 0) in the child, before exec: pgid == pid on return
                close_fds=True,
            )
        except OSError as exc:
            raise RunnerError("error", f"Cannot start /bin/sh: {exc}") from exc
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ, "stdout")
            selector.register(process.stderr, selectors.EVENT_READ, "stderr")
            try:
                sink.started(process_group(process.pid))
                return self._follow(process, selector, timeout, sink)
            except BaseException:
                _kill_group(process)
                raise
            finally:
                process.stdout.close()
                process.stderr.close()
                if process.poll() is None:
                    process.wait()

    def close(self) -> None:
        pass

    def kill_group(self, group: dict) -> str:
        pgid = int(group["pgid"])
        ran_on, here = group.get("machine"), machine_id()
        if ran_on != here:
            return (
                f"process group {pgid} was started on {ran_on or 'another machine'}, not on this "
                f"worker ({here}): not killed"
            )
        if not _leads_its_group(pgid, group.get("start")):
            return f"process group {pgid} had already exited"
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            return f"process group {pgid} had already exited"
        return f"killed process group {pgid}"

    def _follow(self, process, selector, timeout: int, sink: OutputSink) -> CommandResult:
        started = time.monotonic()
        deadline = started + max(1, timeout)
        quiet_since = None  # once it exited: when output last arrived
        while True:
            got_output = False
            if selector.get_map():
                got_output = _read(selector, sink, POLL_SECONDS)
            else:
                # The command closed its output but still runs.
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(POLL_SECONDS)
            now = time.monotonic()
            if process.poll() is not None:
                # Exited; a child it left in the background may still hold stdout open. Take output
                # until it goes quiet.
                if quiet_since is None or got_output:
                    quiet_since = now
                if (
                    not selector.get_map()
                    or now - quiet_since >= SETTLE_SECONDS
                    or now >= deadline
                    or sink.cancelled()
                ):
                    break
                continue
            if sink.cancelled():
                _kill_group(process)
                _settle(selector, sink)
                return CommandResult(exit_code=None, cancelled=True)
            if now >= deadline:
                _kill_group(process)
                _settle(selector, sink)
                return CommandResult(exit_code=None, timed_out=True)
        code = process.wait()
        return CommandResult(exit_code=None if code < 0 else code)


def _read(selector: selectors.BaseSelector, sink: OutputSink, seconds: float) -> bool:
    """Pass on what the pipes hold; True if they held anything."""
    got = False
    for key, _ in selector.select(seconds):
        data = os.read(key.fd, 65536)
        if data:
            sink.write(key.data, data)
            got = True
        else:
            selector.unregister(key.fileobj)
    return got


def _settle(selector: selectors.BaseSelector, sink: OutputSink) -> None:
    """Take the output still in the pipes after a kill."""
    until = time.monotonic() + SETTLE_SECONDS
    while selector.get_map() and time.monotonic() < until:
        _read(selector, sink, POLL_SECONDS)


def machine_id() -> str:
    """This machine as of this boot: a pid means nothing on another host or after a reboot."""
    try:
        boot = BOOT_ID.read_text().strip()
    except OSError:
        boot = ""
    return f"{socket.gethostname()}/{boot}"


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks since boot) of a process, from /proc; None if it is gone."""
    try:
        fields = (PROC / str(pid) / "stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return fields[0], int(fields[19])


def process_group(pid: int) -> dict:
    """What the sink records for the group the new process `pid` leads."""
    stat = _stat(pid)
    return {"pgid": pid, "start": stat[1] if stat else None, "machine": machine_id()}


def _leads_its_group(pgid: int, start: int | None) -> bool:
    """The leader we started still runs. Linux never hands out a pid while a group of that id
    exists, so a leader with the recorded start time means the group is ours."""
    if not (PROC / "self/stat").exists():  # No /proc (a macOS laptop): the leader must still lead.
        try:
            return os.getpgid(pgid) == pgid
        except ProcessLookupError:
            return False
    stat = _stat(pgid)
    return stat is not None and stat[0] not in ("Z", "X") and stat[1] == start


def _kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
