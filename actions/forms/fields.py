"""Fields the actions admin forms share."""

from typing import Any

from django import forms

MONOSPACE = "mitigate-monospace"


class TagsField(forms.CharField):
    """A list of tags typed as comma-separated words."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "Comma-separated, e.g. web, eu-west, production.")
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return value

    def to_python(self, value: Any) -> list[str]:
        if isinstance(value, list | tuple):
            return [str(v).strip() for v in value if str(v).strip()]
        text = super().to_python(value)
        return sorted({t.strip() for t in text.split(",") if t.strip()})

    def has_changed(self, initial: Any, data: Any) -> bool:
        return sorted(initial or []) != self.to_python(data)
