"""What the alerts admin pages share: matchers typed one per line in Alertmanager's syntax, label
lists typed comma-separated, badges and key/value tables. The acting user, service refusals shown
as form errors and adopting a service's row come from common.admin.services, as in every app."""

import re
from typing import Any

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from actions.admin.base import CSS
from alerts.choices import AlertStatus, MatcherOp
from alerts.matching import matchers_problems

__all__ = [
    "CSS",
    "LabelListField",
    "MatchersField",
    "alert_status_badge",
    "key_value_table",
    "matchers_parse",
    "matchers_text",
]

# --- Matchers as text ------------------------------------------------------------------------------

OPERATORS = {"=": MatcherOp.EQ, "!=": MatcherOp.NEQ, "=~": MatcherOp.REGEX}
SYMBOLS = {op: symbol for symbol, op in OPERATORS.items()}
LABEL = r"[^\s=!~\"{},]+"
MATCHER_LINE = re.compile(rf'^(?P<label>{LABEL})\s*(?P<op>=~|!=|!~|=)\s*"(?P<value>(?:[^"\\]|\\.)*)"$')
EXISTS_LINE = re.compile(rf"^(?P<label>{LABEL})$")
MATCHERS_HELP = format_html(
    "One matcher a line, all must hold: <code>{}</code> (equals), <code>{}</code> (does not equal), "
    "<code>{}</code> (regular expression, matching the whole value) or a bare label name such as "
    "<code>{}</code> (the label exists). Lines starting with # are ignored.",
    'severity="critical"',
    'env!="staging"',
    'instance=~"web-.*"',
    "team",
)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def matchers_text(matchers: Any, separator: str = "\n") -> str:
    """Matchers as typed: `severity="critical"`, `env!="staging"`, `instance=~"web-.*"`, `team`."""
    lines = []
    for matcher in matchers or []:
        if not isinstance(matcher, dict):
            continue
        if matcher.get("op") == MatcherOp.EXISTS:
            lines.append(str(matcher.get("label", "")))
        else:
            symbol = SYMBOLS.get(matcher.get("op"), "?")
            lines.append(f"{matcher.get('label', '')}{symbol}{_quote(str(matcher.get('value', '')))}")
    return separator.join(lines)


def matchers_parse(text: str) -> list[dict[str, str]]:
    """The JSON list alerts.matching expects, from matchers typed one a line; raises
    forms.ValidationError with one message for each line it cannot read."""
    matchers: list[dict[str, str]] = []
    problems: list[str] = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip().rstrip(",").strip()
        if not line or line.startswith("#"):
            continue
        exists = EXISTS_LINE.match(line)
        if exists:
            matchers.append({"label": exists["label"], "op": MatcherOp.EXISTS, "value": ""})
            continue
        match = MATCHER_LINE.match(line)
        if match is None:
            problems.append(
                f'Line {number}: cannot read {line!r}; write label="value", label!="value", '
                'label=~"regex" or a bare label name.'
            )
            continue
        if match["op"] == "!~":
            problems.append(f"Line {number}: !~ (regex does not match) is not supported; use =~ or !=.")
            continue
        matchers.append(
            {"label": match["label"], "op": OPERATORS[match["op"]], "value": _unquote(match["value"])}
        )
    if not problems:
        problems = matchers_problems(matchers)
    if problems:
        raise forms.ValidationError(problems)
    return matchers


class MatchersField(forms.CharField):
    """A JSON list of matchers edited as text, one matcher a line."""

    widget = forms.Textarea

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("help_text", MATCHERS_HELP)
        kwargs.setdefault(
            "widget",
            forms.Textarea(
                attrs={"rows": 4, "cols": 60, "spellcheck": "false", "class": "mitigate-monospace"}
            ),
        )
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return matchers_text(value)
        return value

    def to_python(self, value: Any) -> list[dict[str, str]]:
        if isinstance(value, list):
            return value
        return matchers_parse(super().to_python(value))

    def validate(self, value: Any) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return (initial or []) != self.to_python(data)
        except forms.ValidationError:
            return True


class LabelListField(forms.CharField):
    """A list of label names typed comma-separated, order kept, duplicates dropped."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return value

    def to_python(self, value: Any) -> list[str]:
        if isinstance(value, list | tuple):
            return [str(v) for v in value]
        names: list[str] = []
        for name in (super().to_python(value) or "").split(","):
            name = name.strip()
            if name and name not in names:
                names.append(name)
        return names

    def has_changed(self, initial: Any, data: Any) -> bool:
        return list(initial or []) != self.to_python(data)


# --- Display ---------------------------------------------------------------------------------------


def alert_status_badge(status: str) -> SafeString:
    # Run colours from actions/admin.css: firing is filled red, resolved an outlined green.
    colour = "run-failed" if status == AlertStatus.FIRING else "run-succeeded"
    label = AlertStatus(status).label if status in AlertStatus.values else status
    return format_html('<span class="mitigate-badge run-status {}">{}</span>', colour, label)


def key_value_table(mapping: Any, empty: str = "None") -> SafeString | str:
    if not mapping:
        return empty
    if not isinstance(mapping, dict):
        return format_html('<code class="mitigate-monospace">{}</code>', str(mapping))
    rows = format_html_join(
        "",
        '<tr><th scope="row"><code>{}</code></th><td class="mitigate-monospace">{}</td></tr>',
        ((key, value) for key, value in sorted(mapping.items())),
    )
    return format_html('<table class="alerts-key-values"><tbody>{}</tbody></table>', rows)
