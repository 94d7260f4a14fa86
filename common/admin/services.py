"""Admin pages whose writes go through services: the acting user, a service's refusal carried back
onto the forms rendered again, and the admin's unsaved instance made the row a service created."""

from collections.abc import Iterator
from contextlib import contextmanager

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest, HttpResponse

from common.actor import Actor, Source
from common.exceptions import ApplicationError


def admin_actor(request: HttpRequest) -> Actor:
    return Actor(user=request.user, source=Source.ADMIN)


class ServiceRefusedError(Exception):
    """A service refused a save. Carries its errors to the forms rendered again:
    `errors` for the main form, `step_errors` by inline form index, `formset_errors` for the
    inline as a whole."""

    def __init__(
        self,
        errors: dict[str | None, list[str]],
        step_errors: dict[int, dict[str | None, list[str]]] | None = None,
        formset_errors: list[str] | None = None,
    ):
        super().__init__(errors)
        self.errors = errors
        self.step_errors = step_errors or {}
        self.formset_errors = formset_errors or []


def error_dict(exc: ValidationError) -> dict[str | None, list[str]]:
    if hasattr(exc, "error_dict"):
        return {(None if f == NON_FIELD_ERRORS else f): m for f, m in exc.message_dict.items()}
    return {None: list(exc.messages)}


def form_errors_from(form: forms.Form, exc: ValidationError) -> None:
    """Attach a service's ValidationError to a form: its fields where they match, else on top."""
    for field, messages in error_dict(exc).items():
        form.add_error(field if field in form.fields else None, messages)


@contextmanager
def refusals(
    rename: dict[str, str] | None = None, *, prefix: str = "", name_fields: bool = False
) -> Iterator[None]:
    """Turn the domain errors of the services called inside into ServiceRefusedError, with field
    names mapped to the form's where they differ. With a `prefix` (an inline row: "Status update",
    "Action item 2") every message goes on top of the page after it, after its field's name too
    when `name_fields`."""
    try:
        yield
    except ValidationError as exc:
        if prefix:
            errors = {
                None: [
                    f"{prefix}: {field.replace('_', ' ') + ': ' if field and name_fields else ''}{message}"
                    for field, messages in error_dict(exc).items()
                    for message in messages
                ]
            }
        else:
            errors = {(rename or {}).get(f, f) if f else f: m for f, m in error_dict(exc).items()}
        raise ServiceRefusedError(errors) from exc
    except ApplicationError as exc:
        raise ServiceRefusedError({None: [f"{prefix}: {exc.message}" if prefix else exc.message]}) from exc


def service_refusal(request: HttpRequest) -> ServiceRefusedError | None:
    return getattr(request, "_service_refusal", None)


class ServiceSaveMixin:
    """For ModelAdmins whose save calls a service. When the service refuses, the save's transaction
    is rolled back (nothing was written) and the submitted page is rendered once more, with the
    service's errors attached to its forms."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefusedError as refused:
            request._service_refusal = refused
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request: HttpRequest, obj=None, change: bool = False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        refused = service_refusal(request)
        if refused is not None:
            form = type(form.__name__, (form,), {"service_errors": refused.errors})
        return form


class ServiceRowsInlineMixin:
    """For an inline whose formset is a ServiceRowsFormSet: after the service refused the save,
    the formset shown again carries the refusal onto its rows."""

    def get_formset(self, request: HttpRequest, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        refused = service_refusal(request)
        if refused is not None:
            formset = type(
                formset.__name__,
                (formset,),
                {
                    "service_step_errors": refused.step_errors,
                    "service_non_form_errors": refused.formset_errors,
                },
            )
        return formset


def adopt(obj, created) -> None:
    """Make the admin's unsaved instance the row a service created, so the admin's log entry and
    redirect point at it. Values are copied under the descriptors (FSM fields are protected)."""
    for field in type(created)._meta.concrete_fields:
        obj.__dict__[field.attname] = created.__dict__[field.attname]
    obj._state.adding = False
    obj._state.db = created._state.db


class ServiceRowsSaveMixin:
    """For ModelAdmins whose service saves the object with its inline rows in one call (an action
    with its steps, a rule with its responses). The admin sets `rows_formset` (its ServiceRowsFormSet
    class), `rows_name` (the rows in the change history), `rows_key` (their name in the service's
    errors), `rows_label` (a row's name in a message) and `rows_refused` (said when the service
    gives no detail), and provides
    `save_with_rows(request, form, change, row_forms)`, which calls the service and returns the row."""

    rows_formset: type
    rows_name: str
    rows_key: str
    rows_label: str
    rows_refused: str

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        """Nothing yet: save_related saves the object with its rows, as one service call."""

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        [rows_formset] = [f for f in formsets if isinstance(f, self.rows_formset)]
        rows = rows_formset.submitted_rows()
        try:
            saved = self.save_with_rows(request, form, change, [row_form for _, row_form in rows])
        except ValidationError as exc:
            raise self._rows_refusal(error_dict(exc), [index for index, _ in rows]) from exc
        except ApplicationError as exc:
            raise ServiceRefusedError({None: [exc.message]}) from exc
        adopt(form.instance, saved)
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def construct_change_message(self, request, form, formsets, add=False):
        message = super().construct_change_message(request, form, formsets, add)
        rows_changed = any(
            f.has_changed() or (formset.can_delete and formset._should_delete_form(f))
            for formset in formsets
            for f in formset.forms
        )
        if not add and rows_changed:
            message.append({"changed": {"fields": [self.rows_name]}})
        return message

    def _rows_refusal(
        self, errors: dict[str | None, list[str]], form_indexes: list[int]
    ) -> ServiceRefusedError:
        """Sort the service's errors: `<rows_key>.<n>.<field>` to the n-th submitted row's form,
        `<rows_key>` to the inline as a whole, the rest to the object's form."""
        main: dict[str | None, list[str]] = {}
        by_form: dict[int, dict[str | None, list[str]]] = {}
        whole: list[str] = []
        for key, messages in errors.items():
            parts = (key or "").split(".")
            if parts[0] == self.rows_key and len(parts) >= 2 and parts[1].isdigit():
                position = int(parts[1]) - 1
                field = parts[2] if len(parts) > 2 else None
                if 0 <= position < len(form_indexes):
                    by_form.setdefault(form_indexes[position], {}).setdefault(field, []).extend(messages)
                else:
                    whole.extend(f"{self.rows_label} {parts[1]}: {m}" for m in messages)
            elif key == self.rows_key:
                whole.extend(messages)
            else:
                main.setdefault(key, []).extend(messages)
        if not main and not by_form and not whole:
            main[None] = [self.rows_refused]
        return ServiceRefusedError(main, step_errors=by_form, formset_errors=whole)
