"""Form parts every admin app shares: a service's refusal shown on the form rendered again, inline
rows a service saves as a whole with their parent, and JSON shown indented."""

import json
from typing import Any

from django import forms
from django.forms.models import BaseInlineFormSet

# Rows of one admin page are sorted by the order typed; rows without one go last, as listed.
UNORDERED = 10**6


class ServiceErrorsMixin:
    """Errors a service raised on a first attempt to save, shown on the form rendered again.

    The admin catches the service's refusal (the transaction is rolled back: nothing was written)
    and renders the submitted forms once more with these errors attached (see common.admin.services)."""

    service_errors: dict[str | None, list[str]] = {}

    def __init__(self, *args: Any, service_errors: dict[str | None, list[str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if service_errors is not None:
            self.service_errors = service_errors

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for field, messages in self.service_errors.items():
            if field in self.fields:
                self.add_error(field, messages)
            else:
                label = f"{field.replace('_', ' ').capitalize()}: " if field else ""
                self.add_error(None, [label + m for m in messages])
        return cleaned


class PrettyJSONField(forms.JSONField):
    """JSON shown indented, so a list of parameter declarations reads one key a line."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False)


class ServiceRowsFormSet(BaseInlineFormSet):
    """Inline rows a service saves as a whole with their parent (an action's steps, a rule's
    responses). Never saved by the formset: the admin hands every row to the service, which
    replaces the rows or refuses them all; its refusal comes back onto the rows."""

    # Set by the admin when the service refused a first attempt: {form index: {field: [messages]}}.
    service_step_errors: dict[int, dict[str | None, list[str]]] = {}
    service_non_form_errors: list[str] = []

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        kwargs = super().get_form_kwargs(index)
        if index is not None and index in self.service_step_errors:
            kwargs["service_errors"] = self.service_step_errors[index]
        return kwargs

    def _construct_form(self, i: int, **kwargs: Any) -> forms.Form:
        form = super()._construct_form(i, **kwargs)
        if i >= self.initial_form_count():
            form.initial.setdefault("order", (i + 1) * 10)
        return form

    def clean(self) -> None:
        super().clean()
        if self.service_non_form_errors:
            raise forms.ValidationError(self.service_non_form_errors)

    def submitted_rows(self) -> list[tuple[int, forms.Form]]:
        """(form index, form) of the rows kept, by the order typed (rows without one last)."""
        rows = []
        for index, form in enumerate(self.forms):
            if self.can_delete and self._should_delete_form(form):
                continue
            if form.instance.pk is None and not form.has_changed():
                continue
            order = form.cleaned_data.get("order")
            rows.append((UNORDERED if order is None else order, index, form))
        rows.sort(key=lambda row: (row[0], row[1]))
        return [(index, form) for _, index, form in rows]
