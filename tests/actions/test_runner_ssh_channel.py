"""The pid marker the wrapped command prints first: found on stderr after a login shell's noise,
taken out, and passed to the sink with the process group's start time."""

import pytest

from actions.runners.ssh.channel import Execution
from tests.actions.runner_support import RecordingSink

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("split", [1, 3, 7, 1000])
def test_the_marker_is_found_after_startup_noise_and_taken_out(split):
    sink = RecordingSink()
    execution = Execution.__new__(Execution)
    execution.sink, execution.pid, execution._stderr_head = sink, None, b""
    stream = b"bash: warning: from .bashrc\n__mitigate_pid=4242\nreal\n__mitigate_pid=1\n"
    for i in range(0, len(stream), split):
        execution._stderr(stream[i : i + split])
    execution.flush()

    assert execution.pid == 4242
    assert sink.stderr == b"bash: warning: from .bashrc\nreal\n__mitigate_pid=1\n"


def test_stderr_without_a_marker_is_kept():
    sink = RecordingSink()
    execution = Execution.__new__(Execution)
    execution.sink, execution.pid, execution._stderr_head = sink, None, b""
    execution._stderr(b"sudo: a password is required\n")
    execution.flush()

    assert execution.pid is None
    assert sink.stderr == b"sudo: a password is required\n"


@pytest.mark.parametrize(
    ("line", "group"),
    [
        (b"__mitigate_pid=4242:987654\n", {"pgid": 4242, "start": 987654}),
        # A host without /proc: the start time is unknown, the pid still serves a cancel.
        (b"__mitigate_pid=4242:\n", {"pgid": 4242, "start": None}),
    ],
)
def test_the_marker_carries_the_start_time(line, group):
    sink = RecordingSink()
    execution = Execution.__new__(Execution)
    execution.sink, execution.pid, execution._stderr_head = sink, None, b""
    execution._stderr(line + b"real\n")

    assert (execution.pid, sink.groups, sink.stderr) == (4242, [group], b"real\n")


def test_a_marker_with_a_bad_start_time_is_output():
    sink = RecordingSink()
    execution = Execution.__new__(Execution)
    execution.sink, execution.pid, execution._stderr_head = sink, None, b""
    execution._stderr(b"__mitigate_pid=4242:x\n")
    execution.flush()

    assert (execution.pid, sink.groups, sink.stderr) == (None, [], b"__mitigate_pid=4242:x\n")
