"""Declared action parameters: the shape of a declaration and the check of supplied values."""

import re
from typing import Any

from django.core.exceptions import ValidationError

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_VALUE_LENGTH = 4096


def declarations_problems(declarations: Any) -> list[str]:
    """What is wrong with an action's `parameters` list, for a form or API error."""
    if not isinstance(declarations, list):
        return ["Parameters must be a list of {name, description, default, required, pattern}."]
    problems, seen = [], set()
    for index, item in enumerate(declarations, start=1):
        if not isinstance(item, dict):
            problems.append(f"Parameter {index} must be an object.")
            continue
        name = item.get("name", "")
        if not isinstance(name, str) or not NAME.match(name):
            problems.append(f"Parameter {index}: name must be letters, digits and underscores.")
            continue
        if name in seen:
            problems.append(f"Parameter '{name}' is declared twice.")
        seen.add(name)
        unknown = set(item) - {"name", "description", "default", "required", "pattern"}
        if unknown:
            problems.append(f"Parameter '{name}': unknown keys {', '.join(sorted(unknown))}.")
        pattern = item.get("pattern")
        if pattern:
            try:
                compiled = re.compile(pattern)
            except (re.error, TypeError) as exc:
                problems.append(f"Parameter '{name}': pattern is not a valid regular expression ({exc}).")
                continue
            default = item.get("default")
            if default not in (None, "") and not compiled.fullmatch(str(default)):
                problems.append(f"Parameter '{name}': the default does not match the pattern.")
    return problems


def parameters_validate(declarations: list[dict], supplied: dict[str, Any]) -> dict[str, str]:
    """The values a run gets: supplied or default, every one a string matching its pattern.

    Raises ValidationError keyed `parameters.<name>` so the API's 400 names the parameter."""
    if not isinstance(supplied, dict):
        raise ValidationError({"parameters": ["Parameters must be an object of name: value."]})
    declared = {d["name"]: d for d in declarations}
    errors: dict[str, list[str]] = {}
    for name in supplied:
        if name not in declared:
            errors[f"parameters.{name}"] = ["This action declares no such parameter."]
    values: dict[str, str] = {}
    for name, decl in declared.items():
        value = supplied.get(name)
        if value is None or value == "":
            value = decl.get("default")
        if value is None or value == "":
            if decl.get("required"):
                errors[f"parameters.{name}"] = ["This parameter is required."]
            else:
                values[name] = ""  # Optional and unset: commands see an empty (quoted) value.
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            errors[f"parameters.{name}"] = ["Give a single text or number value."]
            continue
        value = str(value)
        if len(value) > MAX_VALUE_LENGTH:
            errors[f"parameters.{name}"] = [f"At most {MAX_VALUE_LENGTH} characters."]
        elif decl.get("pattern") and not re.fullmatch(decl["pattern"], value):
            errors[f"parameters.{name}"] = [f"Must match {decl['pattern']}."]
        else:
            values[name] = value
    if errors:
        raise ValidationError(errors)
    return values
