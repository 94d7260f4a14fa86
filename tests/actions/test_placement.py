"""actions.placement: a placeholder is accepted only as a whole, unquoted shell word of a plain
command (or the whole value of an assignment); everywhere else the value's quoting would not hold."""

import pytest

from actions.placement import placement_problems
from actions.template_library import template_list

P = "{{ params.x }}"

SAFE = {
    "argument": f"systemctl restart -- {P}",
    "assignment": f'x={P}\necho "$x"',
    "exported assignment": f"export X={P}",
    "redirect target": f"printf '%s' {P} > {P}",
    "after a descriptor redirect": f"echo hi 2>/dev/null {P}",
    "loop items": f"for i in {P}; do echo $i; done",
    "case subject and patterns": f"case {P} in\n a|b) echo {P};;\n {P}) true;;\nesac",
    "test operand": f"if [ {P} = y ]; then echo ok; fi",
    "after a quoted heredoc": f"cat <<'EOF'\nhello $(x) '\nEOF\necho {P}",
    "beside a substitution": f"echo $(date) {P}",
    "argument of a sudo command": f"sudo -n systemctl restart {P}",
    "environment of a command": f"env UNIT={P} systemctl restart nginx",
    "sh -c with a positional argument is not used": "sh -c 'echo \"$1\"'",
    "no placeholder, odd syntax": "echo 'unterminated",
}

UNSAFE = {
    "double quotes": (f'echo "{P}"', "inside double quotes"),
    "single quotes": (f"echo '{P}'", "inside single quotes"),
    "ansi-c quotes": (f"echo $'{P}'", "inside $'...' quotes"),
    "command substitution": (f"echo $({P})", "inside $(...)"),
    "substitution in double quotes": (f'echo "$(echo {P})"', "inside double quotes"),
    "backticks": (f"echo `{P}`", "inside backticks"),
    "parameter expansion": (f"echo ${{x:-{P}}}", "inside ${...}"),
    "arithmetic expansion": (f"echo $(( {P} ))", "inside $((...))"),
    "arithmetic command": (f"(( {P} + 1 ))", "inside ((...))"),
    "double brackets": (f"[[ {P} -eq 1 ]]", "inside [[ ]]"),
    "heredoc body": (f"cat <<EOF\n{P}\nEOF", "in a here-document"),
    "tab-stripped heredoc body": (f"cat <<-END\n\t{P}\n\tEND\necho ok", "in a here-document"),
    "heredoc delimiter": (f"cat <<{P}\nx\n", "here-document's delimiter"),
    "comment": (f"true # {P}", "in a comment"),
    "glued before": (f"echo x{P}", "joined to other characters"),
    "glued after a backslash": (f"echo \\{P}", "joined to other characters"),
    "option value": (f"curl --url={P}", "joined to other characters"),
    "two glued": (f"echo {P}{P}", "joined to other characters"),
    "the command itself": (f"{P} arg", "is the command itself"),
    "the program exec runs": (f"exec {P}", "the program exec runs"),
    "the program env runs": (f"env A=1 {P}", "the program env runs"),
    "sh -c in double quotes": (f'sh -c "echo {P}"', "inside double quotes"),
    "bash -c": (f"bash -c {P}", "bash -c"),
    "bash -ec": (f"bash -ec {P}", "bash -c"),
    "sudo sh -c": (f"sudo sh -c {P}", "sh -c"),
    "su -c": (f"su -c {P} root", "reaches su"),
    "eval": (f"eval {P}", "reaches eval"),
    "ssh": (f"ssh web-1 systemctl restart {P}", "reaches ssh"),
    "xargs": (f"echo {P} | xargs rm", "reaches xargs"),
    "piped into sh": (f"echo {P} | sh", "sh reading its input"),
    "piped into sudo bash": (f"echo {P} | sudo bash", "bash reading its input"),
    "find -exec": (f"find / -name {P} -exec rm {{}} \\;", "find -exec"),
    "docker exec sh -c": (f"docker exec web sh -c {P}", "sh -c"),
    "kubectl exec sh -c": (f"kubectl exec pod -- sh -c {P}", "sh -c"),
    "python -c": (f"python3 -c {P}", "python3 -c"),
    "trap": (f"trap {P} EXIT", "runs it as shell code"),
    "declare -i": (f"declare -i y={P}", "evaluates it"),
    "unset": (f"unset {P}", "variable name"),
    "printf -v": (f"printf -v {P} %s x", "variable name"),
    "awk program": (f"awk {P} /etc/hosts", "awk program"),
    "sed script": (f"sed -e {P} file", "sed program"),
    "program from a variable": (f"$SHELL -c {P}", "chosen only at run time"),
    "unterminated quote": (f"echo '{P}", "cannot be read"),
}


@pytest.mark.parametrize("command", SAFE.values(), ids=SAFE.keys())
def test_a_whole_unquoted_word_is_accepted(command):
    assert placement_problems(command) == []


@pytest.mark.parametrize(("command", "why"), UNSAFE.values(), ids=UNSAFE.keys())
def test_a_placeholder_where_quoting_does_not_hold_is_refused_saying_why(command, why):
    problems = [str(p) for p in placement_problems(command)]
    assert problems, command
    assert any(why in p for p in problems), problems


def test_the_quote_error_says_how_to_write_it():
    [problem] = placement_problems('echo "{{ params.service }}"')
    assert str(problem) == (
        "{{ params.service }} is inside double quotes. Values are quoted for you: write "
        "{{ params.service }} as a word of its own, without quotes."
    )


def test_only_the_misplaced_placeholder_is_reported():
    problems = placement_problems('echo {{ params.a }} "{{ params.b }}" {{ params.c }}')
    assert [p.placeholder for p in problems] == ["{{ params.b }}"]


@pytest.mark.parametrize("template", template_list(), ids=lambda t: t.key)
def test_every_shipped_template_places_its_placeholders_safely(template):
    for step in template.steps:
        assert placement_problems(step["command"]) == [], (template.key, step["name"])
