"""Where a placeholder may stand in a command: only as a whole, unquoted shell word.

`render_command` replaces `{{ params.x }}` with the value shell-quoted (`'...'`). That is safe only
where the shell reads `'...'` as one quoted word, once. Inside other quotes the value's quotes end
the outer ones; in a comment or a here-document quotes mean nothing; glued after a backslash the
opening quote is escaped; inside `$(...)`, backticks, `${...}` or arithmetic, and as an argument of
a command that parses its arguments as shell code again (`sh -c`, `eval`, `ssh`, `xargs`, ...), the
quoting is undone. So `placement_problems` reads the command with a small POSIX sh tokenizer and
refuses every placeholder that is not a word of its own (or the whole value of an assignment,
`name={{ params.x }}`) in a plain command.

The tokenizer knows quoting, escapes, comments, substitutions and here-documents exactly, and
commands roughly (names, assignments, reserved words, pipelines): enough to tell where each
placeholder lands. When it cannot read the command (an unterminated quote) it refuses; a command
without placeholders is never refused, whatever its syntax.

`scanner` is the tokenizer; `commands` reads the commands it found and gives the verdict."""

from actions.placement.commands import placement_problems
from actions.placement.scanner import PLACEHOLDER, Problem

__all__ = ["PLACEHOLDER", "Problem", "placement_problems"]
