"""A machine without sshd, ssh-keygen or Chromium (and on SQLite): the tests that need them are
skipped with the reason in the summary, so `make test` passes there; with CI set they fail instead.

Runs pytest itself on a few such tests, in a process whose program search path is an empty
directory, with its own VAR_DIR and on SQLite, so it never shares a database with this run."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.programs import SEARCH_PATH_ENV

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
PYTEST_OPTIONS = ["-p", "no:cacheprovider", "-p", "no:xdist", "-q", "-rsfE"]
NEEDING_PROGRAMS = [
    # ssh-keygen alone, through the `openssh` fixture.
    "tests/actions/test_runner_ssh_connect.py::test_fingerprints_match_ssh_keygen",
    # A running sshd, through the session fixtures.
    "tests/actions/test_runner_ssh_connect.py::test_no_pinned_key_is_host_key_unknown",
    # Chromium and chromedriver.
    "tests/e2e/test_admin_flow.py",
    # PostgreSQL.
    "tests/incidents/test_references.py::test_concurrent_creations_get_unique_consecutive_references",
]


def run_pytest(tmp_path: Path, *, ci: bool) -> subprocess.CompletedProcess:
    nothing = tmp_path / "no-programs"
    nothing.mkdir(exist_ok=True)
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("CI", "DATABASE_URL", "REDIS_URL", "PYTEST_XDIST_WORKER", "PYTEST_ADDOPTS")
    }
    env.update({SEARCH_PATH_ENV: str(nothing), "VAR_DIR": str(tmp_path / "var")})
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", *PYTEST_OPTIONS, *NEEDING_PROGRAMS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_tests_needing_absent_programs_are_skipped_with_the_reason(tmp_path):
    result = run_pytest(tmp_path, ci=False)
    out = result.stdout + result.stderr

    assert result.returncode == 0, out
    # Every one skipped, each reason naming what to install.
    summary = [line for line in out.splitlines() if line.startswith("SKIPPED")]
    assert any("needs sshd and ssh-keygen" in line and "openssh-server" in line for line in summary), out
    assert any("needs chromium and chromedriver" in line for line in summary), out
    assert any("needs PostgreSQL" in line for line in summary), out
    last = out.splitlines()[-1]
    assert "skipped" in last and not any(word in last for word in ("passed", "failed", "error")), out


def test_on_ci_absent_programs_fail_rather_than_skip(tmp_path):
    result = run_pytest(tmp_path, ci=True)
    out = result.stdout + result.stderr

    assert result.returncode == 1, out
    last = out.splitlines()[-1]
    assert "skipped" not in last, out
    assert "CI must install it rather than skip these tests" in out
    assert "needs sshd and ssh-keygen" in out and "needs chromium and chromedriver" in out, out
