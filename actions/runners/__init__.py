"""Where commands run. The executor asks `runner_for(provider)` for one runner per provider per
action run; admin and API use `host_key_fetch`, `host_key_fingerprint` and `connection_test`."""

import time

from actions.choices import ProviderKind
from actions.runners.base import CommandResult, OutputSink, Runner, RunnerError
from actions.runners.hostkeys import host_key_fingerprint, parse_host_key
from actions.runners.local import LocalRunner
from actions.runners.ssh import SSHRunner, host_key_fetch

__all__ = [
    "CommandResult",
    "LocalRunner",
    "OutputSink",
    "Runner",
    "RunnerError",
    "SSHRunner",
    "connection_test",
    "host_key_fetch",
    "host_key_fingerprint",
    "parse_host_key",
    "runner_for",
]

TEST_COMMAND = "true"
TEST_OUTPUT_BYTES = 2000


def runner_for(provider) -> Runner:
    """A new, unconnected runner for the provider."""
    if provider.kind == ProviderKind.SSH:
        return SSHRunner(provider)
    if provider.kind == ProviderKind.LOCAL:
        return LocalRunner(provider)
    raise RunnerError("error", f"{provider.name} has an unknown kind {provider.kind!r}.")


def connection_test(provider) -> tuple[bool, float | None, str]:
    """Connect, authenticate and run `true` (with sudo when the provider uses it).

    Returns (ok, latency_ms, message): latency covers the whole round trip, connect included, and
    is None when no connection was made; message is "" when ok, else "<code>: <why>"."""
    started = time.monotonic()
    sink = _Capture()
    runner = None
    try:
        runner = runner_for(provider)
        runner.connect()
        result = runner.run(TEST_COMMAND, timeout=max(5, provider.connect_timeout), sink=sink)
    except RunnerError as exc:
        return False, None, f"{exc.code}: {exc.message}"
    finally:
        if runner is not None:
            runner.close()
    latency_ms = round((time.monotonic() - started) * 1000, 1)
    if result.exit_code == 0:
        return True, latency_ms, ""
    if result.timed_out:
        return False, latency_ms, "timeout: `true` did not finish in time."
    said = sink.stderr.decode(errors="replace").strip()
    status = "was killed" if result.exit_code is None else f"exited {result.exit_code}"
    return False, latency_ms, f"error: `true` {status}" + (f": {said}" if said else ".")


class _Capture:
    def __init__(self):
        self.stderr = b""

    def write(self, stream: str, data: bytes) -> None:
        if stream == "stderr" and len(self.stderr) < TEST_OUTPUT_BYTES:
            self.stderr = (self.stderr + data)[:TEST_OUTPUT_BYTES]

    def cancelled(self) -> bool:
        return False

    def started(self, group: dict) -> None:
        pass
