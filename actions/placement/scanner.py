"""A small POSIX sh tokenizer: top-level words and operators, and a problem for every placeholder
found where quoting does not hold (quotes, substitutions, comments, here-documents)."""

import re
from dataclasses import dataclass, field

PLACEHOLDER = re.compile(r"{{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*)\s*}}")
IO_NUMBER = re.compile(r"^[0-9]+$")

REDIRECTIONS = {"<<<", "<<-", "<<", ">>", "<>", ">|", ">&", "<&", "&>>", "&>", "<", ">"}
# Longest first, so `;;` is not read as `;` `;`.
OPERATORS = sorted(
    {";;&", ";;", ";&", "&&", "||", "|&", "|", "&", ";", "(", ")", *REDIRECTIONS}, key=len, reverse=True
)
HEREDOCS = {"<<", "<<-"}
# Words that start a command but are not its name.
RESERVED = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "time"}

HOW = "Values are quoted for you: write {ph} as a word of its own, without quotes"


@dataclass
class Problem:
    placeholder: str  # as written, e.g. "{{ params.x }}"
    reason: str  # "{ph}" stands for the placeholder

    def __str__(self) -> str:
        return self.reason.replace("{ph}", self.placeholder)


@dataclass
class Word:
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
class Op:
    op: str


class UnreadableError(Exception):
    pass


class Scanner:
    """One pass over the command: top-level words and operators, and a problem for every
    placeholder found where quoting does not hold (quotes, substitutions, comments, heredocs)."""

    def __init__(self, text: str):
        self.text = text
        self.spots = {m.start(): m.group(0) for m in PLACEHOLDER.finditer(text)}
        self.problems: dict[int, Problem] = {}  # by the placeholder's position
        self.tokens: list[Word | Op | None] = []  # None marks a newline
        self.word: Word | None = None
        self.heredocs: list[tuple[str, bool]] = []  # (delimiter, strip tabs) waiting for a newline
        self.expect_delimiter: str | None = None

    def refuse_within(self, start: int, end: int, reason: str) -> None:
        """Outer contexts are refused after inner ones, so the outermost reason is kept."""
        for position, text in self.spots.items():
            if start <= position < end:
                self.problems[position] = Problem(text, reason)

    def add(self, source: str, literal: str | None = None) -> None:
        if self.word is None:
            self.word = Word()
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
                self.tokens.append(Op(op))
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
        if isinstance(last, Word):
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
            raise UnreadableError("a single quote is never closed")
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
        raise UnreadableError("a double quote is never closed")

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
                raise UnreadableError(f"a {close} is never closed")
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
        raise UnreadableError(f"a '{close}' is missing")

    def arithmetic(self, i: int) -> int:
        text, depth = self.text, 0
        while i < len(text):
            if text.startswith("))", i) and depth == 0:
                return i + 2
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        raise UnreadableError("a '))' is missing")
