"""What some tests need from the machine beyond Python: system programs (OpenSSH's sshd and
ssh-keygen, Chromium) and PostgreSQL.

On a developer's machine a missing one skips the tests that need it, with the reason in pytest's
summary, so `make test` passes with only Python and make. On CI (`CI` set, as CI services and
`.ci/run` do) it fails them instead: CI installs everything, and must not go green by skipping.

Programs are looked up on PATH plus the sbin directories (sshd lives in /usr/sbin, which a user's
PATH often lacks). `MITIGATE_TEST_PROGRAM_PATH` replaces that search path, so a test can show what a
machine without them gets."""

import os
import shutil
from typing import NoReturn

import pytest

SEARCH_PATH_ENV = "MITIGATE_TEST_PROGRAM_PATH"
SBIN = ("/usr/local/sbin", "/usr/sbin", "/sbin")


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def search_path() -> str:
    override = os.environ.get(SEARCH_PATH_ENV)
    if override is not None:
        return override
    return os.pathsep.join([os.environ.get("PATH", os.defpath), *SBIN])


def find_program(name: str) -> str | None:
    """The executable's full path, or None when the machine has no usable one."""
    return shutil.which(name, path=search_path())


def missing(reason: str) -> NoReturn:
    """Skip the current test for a missing requirement, or on CI fail it."""
    if on_ci():
        pytest.fail(f"{reason} (CI must install it rather than skip these tests)", pytrace=False)
    pytest.skip(reason)


def require_programs(*names: str, install: str) -> dict[str, str]:
    """The full paths of `names`; skips (on CI: fails) the test when one is missing."""
    found = {name: find_program(name) for name in names}
    absent = [name for name, path in found.items() if path is None]
    if absent:
        missing(f"needs {' and '.join(absent)}, not installed ({install})")
    return {name: path for name, path in found.items() if path is not None}
