"""The hostile corpus: 50 values that try to run a command (create the canary file) or to change
what a command does, for every path that takes outside text into a command: the templating, the
runners, the run API, alert webhooks.

`corpus(canary)` builds the values around the path of the canary file the attacks try to create;
`HOSTILE` uses a relative name, for tests that run in a scratch directory."""

import os
from collections.abc import Iterator
from contextlib import contextmanager

TEN_KB = 10 * 1024


def corpus(canary: str) -> dict[str, str]:
    touch = f"touch {canary}"
    values = {
        "command substitution": f"$({touch})",
        "backticks": f"`{touch}`",
        "semicolon": f"x; {touch}",
        "semicolon unspaced": f";{touch};",
        "and": f"x && {touch}",
        "or": f"x || {touch}",
        "pipe": f"x | {touch}",
        "background": f"x & {touch}",
        "redirect": f"x > {canary}",
        "append redirect": f">>{canary}",
        "newline": f"x\n{touch}\n",
        "carriage return": f"x\r\n{touch}",
        "next line (NEL)": f"x\u0085{touch}",
        "line separator": f"x\u2028{touch}",
        "single quote": f"x'; {touch}; echo '",
        "double quote": f'x"; {touch}; echo "',
        "quotes mixed": f"'\"'\"'$({touch})'\"",
        "escaped quote": f"\\'; {touch}; #",
        "unicode quotes": f"\u2018; {touch}; \u2019 \u201c$({touch})\u201d",
        "fullwidth semicolon": f"x\uff1b{touch}",
        "IFS": f"x;touch${{IFS}}{canary}",
        "IFS bare": f"$IFS{touch}$IFS",
        "braced variable": "${HOME:-x}${PATH}",
        "parameter default runs": f"${{x:-$({touch})}}",
        "variable": "$HOME",
        "ansi-c quote": f"$'\\x27; {touch}; \\x27'",
        "arithmetic": "$((6*7))",
        "arithmetic subscript": f"a[$({touch})]",
        "process substitution": f"<({touch})",
        "heredoc": f"<<EOF\n{touch}\nEOF",
        "comment": f"# $({touch})",
        "brace expansion": f"{{a,b}}{{touch,{canary}}}",
        "history": "!!",
        "glob": "*",
        "glob with path": "./*/../*",
        "glob class": "[a-z]*",
        "tilde": "~",
        "tilde user": "~root/.ssh",
        "backslashes": "\\\\\\n\\t\\",
        "trailing backslash": "x\\",
        "leading dash": "-n",
        "double quote redirect": f'x" >{canary} "',
        "option with value": f"--output={canary}",
        "single quote redirect": f"x' >{canary} '",
        "empty": "",
        "spaces only": "   ",
        "tab and vertical tab": "\t\x0b\x0c",
        "unicode": "é ☃ 𝄞 日本語 \u202e gnp.exe 👩‍👩‍👧",
        "control characters": "\x01\x07\x1b[31mred\x1b[0m\x7f",
        "ten kilobytes": (f"$({touch}); '\"`\\ *" * TEN_KB)[:TEN_KB],
    }
    assert len(values) == 50
    return values


HOSTILE = corpus("PWNED")


@contextmanager
def no_canary(path: str) -> Iterator[None]:
    """Fails when the canary file exists before or after the block. Never removed here: a canary
    left by an earlier run must fail loudly, not be tidied away."""
    assert not os.path.exists(path), f"{path} exists: a hostile value ran a command"
    yield
    assert not os.path.exists(path), "a hostile value ran a command"


def each_runner(request):
    """The provider for a test parametrized over "local" and "ssh" (the test sshd)."""
    if request.param == "local":
        return request.getfixturevalue("local_provider")
    return request.getfixturevalue("ssh_provider")()
