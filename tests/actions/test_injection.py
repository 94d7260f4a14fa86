"""Hostile parameter values, rendered by the one templating function, run by both runners: the
value arrives byte for byte as one argument and never runs anything."""

import pytest

from actions.runners import runner_for
from actions.templating import render_command
from tests.actions.runner_support import RecordingSink
from tests.hostile import HOSTILE

CANARY = "PWNED"  # every attack of tests.hostile.HOSTILE tries to create this file in the working directory


@pytest.fixture(params=["local", pytest.param("ssh", marks=pytest.mark.integration)])
def runner(request, db):
    if request.param == "local":
        provider = request.getfixturevalue("local_provider")
    else:
        provider = request.getfixturevalue("ssh_provider")()
    made = runner_for(provider)
    made.connect()
    yield made
    made.close()


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_value_is_one_literal_argument(runner, tmp_path, value):
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "decoy-file").touch()  # something for an unquoted glob to expand to
    out = tmp_path / "out.bin"
    context = {"params": {"value": value, "dir": str(workdir), "out": str(out)}}
    command = render_command(
        "cd {{ params.dir }} && printf '%s' {{ params.value }} > {{ params.out }} "
        "&& printf '%s' {{params.value}}",
        context,
    )
    sink = RecordingSink()

    result = runner.run(command, timeout=20, sink=sink)

    assert result.exit_code == 0, sink.stderr
    assert out.read_bytes() == value.encode()
    assert sink.stdout == value.encode()
    assert sink.stderr == b""
    assert sorted(p.name for p in workdir.iterdir()) == ["decoy-file"]
    assert not (tmp_path / CANARY).exists()
