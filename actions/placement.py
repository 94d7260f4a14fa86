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
without placeholders is never refused, whatever its syntax."""

import itertools
import os
import re
from dataclasses import dataclass, field

PLACEHOLDER = re.compile(r"{{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*)\s*}}")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
IO_NUMBER = re.compile(r"^[0-9]+$")

REDIRECTIONS = {"<<<", "<<-", "<<", ">>", "<>", ">|", ">&", "<&", "&>>", "&>", "<", ">"}
# Longest first, so `;;` is not read as `;` `;`.
OPERATORS = sorted(
    {";;&", ";;", ";&", "&&", "||", "|&", "|", "&", ";", "(", ")", *REDIRECTIONS}, key=len, reverse=True
)
HEREDOCS = {"<<", "<<-"}
PIPES = {"|", "|&"}
CASE_BREAKS = {";;", ";&", ";;&"}
# Words that start a command but are not its name.
RESERVED = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "time"}

SHELLS = {"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "fish", "csh", "tcsh", "busybox"}
# Anywhere in a pipeline: they hand their arguments (or their input) to a shell again.
REEVALUATORS = {"eval", "ssh", "su", "runuser", "xargs", "watch", "parallel", "script", "at", "batch"}
# As the command: builtins that run, alias or source their argument as code.
CODE_BUILTINS = {"eval", "trap", "alias", "source", ".", "let"}
# Builtins that read their argument as a variable name: bash evaluates `a[$(...)]` subscripts there.
NAME_BUILTINS = {"unset", "read", "mapfile", "readarray", "getopts"}
DECLARATIONS = {"declare", "typeset", "local", "export", "readonly"}
INTERPRETERS = re.compile(r"^(python[0-9.]*|perl|ruby|node|nodejs|php|lua)$")
# Commands that run the next word as the program: a placeholder there would choose what runs.
WRAPPERS = {"exec", "command", "builtin", "nohup", "env", "sudo", "doas", "setsid", "time", "nice", "stdbuf"}
FIND_EXEC = {"-exec", "-execdir", "-ok", "-okdir"}

HOW = "Values are quoted for you: write {ph} as a word of its own, without quotes"


@dataclass
class Problem:
    placeholder: str  # as written, e.g. "{{ params.x }}"
    reason: str  # "{ph}" stands for the placeholder

    def __str__(self) -> str:
        return self.reason.replace("{ph}", self.placeholder)


@dataclass
class _Word:
    source: str = ""  # as written, quotes and all
    literal: str = ""  # after quote removal, placeholders dropped: for recognising command names
    placeholders: list[tuple[int, str]] = field(default_factory=list)  # (position, text) at this level

    @property
    def dynamic(self) -> bool:
        """Its text is only known at run time ($var, $(...), `...`)."""
        return "$" in self.source or "`" in self.source

    @property
    def plain(self) -> bool:
        return not self.placeholders and not self.dynamic


@dataclass
class _Op:
    op: str


class _UnreadableError(Exception):
    pass


class _Scanner:
    """One pass over the command: top-level words and operators, and a problem for every
    placeholder found where quoting does not hold (quotes, substitutions, comments, heredocs)."""

    def __init__(self, text: str):
        self.text = text
        self.spots = {m.start(): m.group(0) for m in PLACEHOLDER.finditer(text)}
        self.problems: dict[int, Problem] = {}  # by the placeholder's position
        self.tokens: list[_Word | _Op | None] = []  # None marks a newline
        self.word: _Word | None = None
        self.heredocs: list[tuple[str, bool]] = []  # (delimiter, strip tabs) waiting for a newline
        self.expect_delimiter: str | None = None

    def refuse_within(self, start: int, end: int, reason: str) -> None:
        """Outer contexts are refused after inner ones, so the outermost reason is kept."""
        for position, text in self.spots.items():
            if start <= position < end:
                self.problems[position] = Problem(text, reason)

    def add(self, source: str, literal: str | None = None) -> None:
        if self.word is None:
            self.word = _Word()
        self.word.source += source
        self.word.literal += source if literal is None else literal

    def end_word(self) -> None:
        word, self.word = self.word, None
        if word is None:
            return
        if self.expect_delimiter is not None:
            for position, text in word.placeholders:
                self.problems[position] = Problem(text, "{ph} is a here-document's delimiter. " + HOW + ".")
            self.heredocs.append((word.literal, self.expect_delimiter == "<<-"))
            self.expect_delimiter = None
        self.tokens.append(word)

    # --- The top level ---------------------------------------------------------------------------

    def scan(self) -> None:
        text, i = self.text, 0
        while i < len(text):
            spot = self.spots.get(i)
            if spot is not None:
                self.add(spot, "")
                self.word.placeholders.append((i, spot))
                i += len(spot)
                continue
            c = text[i]
            if c in " \t":
                self.end_word()
                i += 1
            elif c == "\n":
                self.end_word()
                self.tokens.append(None)
                i = self.read_heredocs(i + 1)
            elif c == "#" and self.word is None:
                end = text.find("\n", i)
                end = len(text) if end < 0 else end
                self.refuse_within(i, end, "{ph} is in a comment, where quotes do not count: remove it.")
                i = end
            elif c == "\\":
                if text.startswith("\n", i + 1):
                    i += 2  # A line continuation joins the lines.
                elif i + 1 in self.spots:
                    self.add("\\", "")  # The placeholder follows, glued to the backslash.
                    i += 1
                else:
                    self.add(text[i : i + 2], text[i + 1 : i + 2])
                    i += 2
            elif c == "'":
                end = self.single_quoted(i + 1)
                self.add(text[i:end], text[i + 1 : end - 1])
                i = end
            elif c == '"':
                end = self.double_quoted(i + 1, "{ph} is inside double quotes. " + HOW + ".")
                self.add(text[i:end], text[i + 1 : end - 1])
                i = end
            elif c == "`" or (c == "$" and text.startswith(("$(", "${", "$'", '$"'), i)):
                end = self.expansion(i)
                self.add(text[i:end], "")
                i = end
            elif c == "(" and text.startswith("((", i) and self.at_command_start():
                end = self.arithmetic(i + 2)
                self.refuse_within(i, end, "{ph} is inside ((...)), where its value would be evaluated.")
                self.add(text[i:end], "((")
                i = end
            elif c in ";&|<>()":
                op = next(o for o in OPERATORS if text.startswith(o, i))
                if op in REDIRECTIONS and self.word is not None and IO_NUMBER.match(self.word.source):
                    self.word = None  # `2>file`: the digits are the descriptor, not a word.
                self.end_word()
                self.tokens.append(_Op(op))
                if op in HEREDOCS:
                    self.expect_delimiter = op
                i += len(op)
            else:
                self.add(c)
                i += 1
        self.end_word()
        if self.heredocs:
            self.read_heredocs(len(text))

    def at_command_start(self) -> bool:
        if self.word is not None:
            return False
        last = self.tokens[-1] if self.tokens else None
        if isinstance(last, _Word):
            return last.literal in RESERVED
        return last is None or last.op not in REDIRECTIONS

    def read_heredocs(self, i: int) -> int:
        """Skip the bodies of the here-documents opened on the line just ended."""
        text = self.text
        for delimiter, strip_tabs in self.heredocs:
            start = i
            while i < len(text):
                end = text.find("\n", i)
                end = len(text) if end < 0 else end
                line = text[i:end]
                i = min(end + 1, len(text))
                if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                    break
            self.refuse_within(
                start,
                i,
                "{ph} is in a here-document, where quotes do not count. Assign it first "
                '(name={ph}) and write "$name" in the here-document.',
            )
        self.heredocs = []
        return i

    # --- Nested contexts: every placeholder inside is refused; these find the end ---------------

    def single_quoted(self, i: int) -> int:
        end = self.text.find("'", i)
        if end < 0:
            raise _UnreadableError("a single quote is never closed")
        self.refuse_within(i, end, "{ph} is inside single quotes. " + HOW + ".")
        return end + 1

    def double_quoted(self, i: int, reason: str) -> int:
        text, start = self.text, i
        while i < len(text):
            c = text[i]
            if c == "\\":
                i += 2
            elif c == '"':
                self.refuse_within(start, i, reason)
                return i + 1
            elif c == "`" or (c == "$" and text.startswith(("$(", "${"), i)):
                i = self.expansion(i)
            else:
                i += 1
        raise _UnreadableError("a double quote is never closed")

    def expansion(self, i: int) -> int:
        """`$(...)`, `$((...))`, `${...}`, backticks, `$'...'` or `$"..."` at i; returns its end."""
        text = self.text
        assign = ' Assign it first (name={ph}) and use "$name" there.'
        if text.startswith("$((", i):
            end = self.arithmetic(i + 3)
            reason = "{ph} is inside $((...)), where its value would be evaluated." + assign
        elif text.startswith("$(", i):
            end = self.until_close(i + 2, ")")
            reason = "{ph} is inside $(...), where the quoting is not kept." + assign
        elif text.startswith("${", i):
            end = self.until_close(i + 2, "}")
            reason = "{ph} is inside ${...}, where the quoting is not kept." + assign
        elif text.startswith('$"', i):
            return self.double_quoted(i + 2, '{ph} is inside $"..." quotes. ' + HOW + ".")
        else:  # $'...' or a backtick
            close = "'" if text.startswith("$'", i) else "`"
            end = i + (2 if close == "'" else 1)
            while end < len(text) and text[end] != close:
                end += 2 if text[end] == "\\" else 1
            if end >= len(text):
                raise _UnreadableError(f"a {close} is never closed")
            end += 1
            if close == "'":
                reason = "{ph} is inside $'...' quotes. " + HOW + "."
            else:
                reason = "{ph} is inside backticks, where the quoting is not kept." + assign
        self.refuse_within(i, end, reason)
        return end

    def until_close(self, i: int, close: str) -> int:
        """The end of a `$(`/`${` body: quotes and nested expansions skipped, brackets counted."""
        text, depth, opening = self.text, 0, "(" if close == ")" else "{"
        while i < len(text):
            c = text[i]
            if c == "\\":
                i += 2
            elif c == "'" and close == ")":
                i = self.single_quoted(i + 1)
            elif c == '"':
                i = self.double_quoted(i + 1, "{ph} is inside double quotes. " + HOW + ".")
            elif c == "`" or (c == "$" and text.startswith(("$(", "${", "$'"), i)):
                i = self.expansion(i)
            elif c == opening:
                depth += 1
                i += 1
            elif c == close:
                if depth == 0:
                    return i + 1
                depth -= 1
                i += 1
            else:
                i += 1
        raise _UnreadableError(f"a '{close}' is missing")

    def arithmetic(self, i: int) -> int:
        text, depth = self.text, 0
        while i < len(text):
            if text.startswith("))", i) and depth == 0:
                return i + 2
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        raise _UnreadableError("a '))' is missing")


# --- Commands: where a placeholder that is a word of its own lands ---------------------------------


def _pipelines(tokens: list[_Word | _Op | None]) -> list[tuple[list[list[_Word]], str]]:
    """(pipeline, the operator ending it): a pipeline is its simple commands, each a list of its
    words without redirection targets."""
    result: list[tuple[list[list[_Word]], str]] = []
    pipeline: list[list[_Word]] = []
    command: list[_Word] = []
    skip_next = False
    for token in [*tokens, None]:
        if isinstance(token, _Word):
            if not skip_next:
                command.append(token)
            skip_next = False
            continue
        if isinstance(token, _Op) and token.op in REDIRECTIONS:
            skip_next = True
            continue
        pipeline.append(command)
        command = []
        if not (isinstance(token, _Op) and token.op in PIPES):
            result.append((pipeline, token.op if isinstance(token, _Op) else "\n"))
            pipeline = []
    return result


def _assignment_of(word: _Word) -> bool:
    """`name={{ params.x }}`: the placeholder is the whole value of an assignment."""
    match = ASSIGNMENT.match(word.source)
    return bool(match) and any(word.source[match.end() :] == text for _, text in word.placeholders)


def _each(words: list[_Word], reason: str) -> list[tuple[int, Problem]]:
    return [(position, Problem(text, reason)) for w in words for position, text in w.placeholders]


def _reevaluator(commands: list[list[_Word]]) -> str:
    """What in a pipeline would parse a value as shell code again, or ''."""
    for words in commands:
        literals = [w.literal if not w.placeholders else "" for w in words]
        for position in range(len(words)):
            base = os.path.basename(literals[position])
            rest = set(literals[position + 1 :])
            if base in REEVALUATORS:
                return base
            if base in SHELLS:
                if any(re.fullmatch(r"-[A-Za-z]*c[A-Za-z]*", w) for w in rest):
                    return f"{base} -c"
                if all(w.plain and w.literal.startswith("-") for w in words[position + 1 :]):
                    return f"{base} reading its input"
            if base == "find" and FIND_EXEC & rest:
                return "find -exec"
            if base == "flock" and {"-c", "--command"} & rest:
                return "flock -c"
            if base == "env" and {"-S", "--split-string"} & rest:
                return "env -S"
            if INTERPRETERS.match(base) and {"-c", "-e", "-E", "-r"} & rest:
                return f"{base} {min({'-c', '-e', '-E', '-r'} & rest)}"
    return ""


def _command_problems(words: list[_Word]) -> list[tuple[int, Problem]]:
    """Placeholders of one simple command standing where a value would choose or become code."""
    index = 0
    while index < len(words) and (words[index].plain or _assignment_of(words[index])):
        literal = words[index].literal
        if literal in ("for", "select", "case"):
            return []  # Loop items and the case subject are data.
        if literal not in RESERVED and not ASSIGNMENT.match(literal):
            break
        index += 1
    if index == len(words):
        return []
    head, args = words[index], words[index + 1 :]
    if head.placeholders:
        return _each(
            [head],
            "{ph} is the command itself: a value may not choose what runs. Name the program and pass "
            "{ph} as its argument.",
        )
    if head.dynamic:
        return _each(args, f"{{ph}} is an argument of {head.source}, a program chosen only at run time.")
    name = os.path.basename(head.literal)
    problems: list[tuple[int, Problem]] = []
    options = {w.literal for w in args if w.plain and w.literal.startswith("-")}
    if name in WRAPPERS:
        for word in args:
            if word.plain and word.literal.startswith("-"):
                continue
            if name == "env" and (_assignment_of(word) or (word.plain and ASSIGNMENT.match(word.literal))):
                continue
            problems += _each([word], f"{{ph}} is the program {name} runs: a value may not choose what runs.")
            break
    if name in CODE_BUILTINS:
        problems += _each(args, f"{{ph}} is an argument of {name}, which runs it as shell code.")
    elif name in NAME_BUILTINS or (name in ("printf", "test", "[") and "-v" in options):
        problems += _each(args, f"{{ph}} would be a variable name for {name}, which bash evaluates.")
    elif name in DECLARATIONS:
        if any(set(o[1:]) & set("iaAn") for o in options if not o.startswith("--")):
            problems += _each(
                args, f"{{ph}} is a value of {name} {' '.join(sorted(options))}, which evaluates it."
            )
        else:
            names = [w for w in args if not _assignment_of(w)]
            problems += _each(names, f"{{ph}} would be a variable name for {name}: write name={{ph}}.")
    elif name in ("awk", "gawk", "mawk", "nawk", "sed"):
        program = next((w for w in args if not (w.plain and w.literal.startswith("-"))), None)
        scripts = [b for a, b in itertools.pairwise(args) if a.literal in ("-e", "--expression", "-f")]
        problems += _each(
            [w for w in [program, *scripts] if w is not None], f"{{ph}} would be the {name} program."
        )
    return problems


def placement_problems(command: str) -> list[Problem]:
    """Every placeholder of the command that is not a whole, unquoted word of a plain command."""
    if not PLACEHOLDER.search(command):
        return []
    scanner = _Scanner(command)
    try:
        scanner.scan()
    except _UnreadableError as exc:
        first = PLACEHOLDER.search(command).group(0)
        return [Problem(first, f"The command cannot be read ({exc}), so {{ph}} cannot be placed safely.")]
    problems = scanner.problems
    found: list[tuple[int, Problem]] = []
    for word in (t for t in scanner.tokens if isinstance(t, _Word)):
        whole = len(word.placeholders) == 1 and word.source == word.placeholders[0][1]
        if word.placeholders and not whole and not _assignment_of(word):
            glued = word.source
            for _, text in word.placeholders:
                glued = glued.replace(text, "…")
            found += _each(
                [word],
                f"{{ph}} is joined to other characters ({glued}). {HOW}, or as the whole value of an "
                "assignment (name={ph}).",
            )
    dbracket = False
    case_depth, expect_pattern = 0, False
    for pipeline, end in _pipelines(scanner.tokens):
        words = [w for command in pipeline for w in command]
        first = pipeline[0][0].literal if pipeline[0] and pipeline[0][0].plain else ""
        if expect_pattern and first == "esac":
            case_depth, expect_pattern = case_depth - 1, False
        elif expect_pattern and words:
            expect_pattern = end != ")"  # The patterns are data; the commands follow the `)`.
            continue
        if dbracket or first == "[[":
            dbracket = not any(w.literal == "]]" and w.plain for w in words)
            found += _each(words, "{ph} is inside [[ ]], where bash evaluates values. Use [ ] instead.")
            continue
        if first == "case":
            case_depth, expect_pattern = case_depth + 1, True
        if end in CASE_BREAKS and case_depth:
            expect_pattern = True
        reevaluator = _reevaluator(pipeline)
        if reevaluator:
            found += _each(
                words,
                f"{{ph}} reaches {reevaluator}, which parses it as shell code again: the quoting would be "
                "undone. Run the program directly instead.",
            )
        for command_words in pipeline:
            found += _command_problems(command_words)
    for position, problem in found:
        problems.setdefault(position, problem)
    return [problems[position] for position in sorted(problems)]
