"""Commands: where a placeholder that is a word of its own lands, and the verdict on a command."""

import itertools
import os
import re

from actions.placement.scanner import (
    HOW,
    PLACEHOLDER,
    REDIRECTIONS,
    RESERVED,
    Op,
    Problem,
    Scanner,
    UnreadableError,
    Word,
)

ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
PIPES = {"|", "|&"}
CASE_BREAKS = {";;", ";&", ";;&"}

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


def _pipelines(tokens: list[Word | Op | None]) -> list[tuple[list[list[Word]], str]]:
    """(pipeline, the operator ending it): a pipeline is its simple commands, each a list of its
    words without redirection targets."""
    result: list[tuple[list[list[Word]], str]] = []
    pipeline: list[list[Word]] = []
    command: list[Word] = []
    skip_next = False
    for token in [*tokens, None]:
        if isinstance(token, Word):
            if not skip_next:
                command.append(token)
            skip_next = False
            continue
        if isinstance(token, Op) and token.op in REDIRECTIONS:
            skip_next = True
            continue
        pipeline.append(command)
        command = []
        if not (isinstance(token, Op) and token.op in PIPES):
            result.append((pipeline, token.op if isinstance(token, Op) else "\n"))
            pipeline = []
    return result


def _assignment_of(word: Word) -> bool:
    """`name={{ params.x }}`: the placeholder is the whole value of an assignment."""
    match = ASSIGNMENT.match(word.source)
    return bool(match) and any(word.source[match.end() :] == text for _, text in word.placeholders)


def _each(words: list[Word], reason: str) -> list[tuple[int, Problem]]:
    return [(position, Problem(text, reason)) for w in words for position, text in w.placeholders]


def _reevaluator(commands: list[list[Word]]) -> str:
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


def _command_problems(words: list[Word]) -> list[tuple[int, Problem]]:
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
    scanner = Scanner(command)
    try:
        scanner.scan()
    except UnreadableError as exc:
        first = PLACEHOLDER.search(command).group(0)
        return [Problem(first, f"The command cannot be read ({exc}), so {{ph}} cannot be placed safely.")]
    problems = scanner.problems
    found: list[tuple[int, Problem]] = []
    for word in (t for t in scanner.tokens if isinstance(t, Word)):
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
