"""Hostile parameter values, rendered by the one templating function, run by both runners: the
value arrives byte for byte as one argument and never runs anything."""

import pytest

from actions.runners import runner_for
from actions.templating import render_command
from tests.actions.runner_support import RecordingSink

CANARY = "PWNED"  # every attack tries to create this file in the working directory

HOSTILE = {
    "command substitution": f"$(touch {CANARY})",
    "backticks": f"`touch {CANARY}`",
    "semicolon": f"x; touch {CANARY}",
    "and": f"x && touch {CANARY}",
    "or": f"x || touch {CANARY}",
    "pipe": f"x | touch {CANARY}",
    "background": f"x & touch {CANARY}",
    "redirect": f"x > {CANARY}",
    "newline": f"x\ntouch {CANARY}\n",
    "carriage return": f"x\r\ntouch {CANARY}",
    "single quote": f"x'; touch {CANARY}; echo '",
    "double quote": f'x"; touch {CANARY}; echo "',
    "quotes mixed": f"'\"'\"'$(touch {CANARY})'\"",
    "escaped quote": f"\\'; touch {CANARY}; #",
    "glob": "*",
    "glob with path": "./*/../*",
    "brace expansion": f"{{a,b}}{{touch,{CANARY}}}",
    "variable": "$HOME",
    "braced variable": "${HOME:-x}${PATH}",
    "arithmetic": "$((6*7))",
    "history": "!!",
    "tilde": "~",
    "backslashes": "\\\\\\n\\t\\",
    "process substitution": f"<(touch {CANARY})",
    "heredoc": f"<<EOF\ntouch {CANARY}\nEOF",
    "comment": f"# $(touch {CANARY})",
    "leading dash": "-n",
    "double dash option": "--help",
    "lone dash": "-",
    "empty": "",
    "spaces only": "   ",
    "tab": "\t",
    "unicode": "é ☃ 𝄞 日本語 \u202e gnp.exe",
    "emoji zwj": "👩‍👩‍👧",
    "control characters": "\x01\x07\x1b[31mred\x1b[0m\x7f",
    "very long": (f"$(touch {CANARY}); '\"`\\ *" * 1000),
}


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
