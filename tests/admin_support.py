"""Helpers for the admin tests of every app: what a browser would post for an admin page left as it
is, the messages a response flashed, and the admin URLs of an object or a model."""

from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.contrib.messages import get_messages
from django.forms import CheckboxInput
from django.urls import reverse


def _field_data(bound_field) -> dict:
    """What a browser would submit for one bound field, as rendered."""
    widget = bound_field.field.widget
    while isinstance(widget, RelatedFieldWidgetWrapper):
        widget = widget.widget
    context = widget.get_context(bound_field.html_name, bound_field.value(), {})["widget"]
    data = {}
    for sub in context.get("subwidgets") or [context]:
        if isinstance(widget, CheckboxInput):
            if sub["attrs"].get("checked"):
                data[sub["name"]] = "on"
        elif sub.get("value") is not None:
            data[sub["name"]] = sub["value"]
    return data


def form_data(response, **changes) -> dict:
    """The POST a browser would send for an admin add/change page left as it is, plus `changes`."""
    data = {}
    for bound_field in response.context["adminform"].form:
        data.update(_field_data(bound_field))
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for bound_field in formset.management_form:
            data[bound_field.html_name] = bound_field.value()
        for form in formset.forms:
            for bound_field in form:
                data.update(_field_data(bound_field))
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def flashed(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def admin_url(app_label: str, name: str, *args) -> str:
    """reverse("admin:<app_label>_<name>", args), e.g. admin_url("alerts", "alertrule_change", 3)."""
    return reverse(f"admin:{app_label}_{name}", args=args)


def change_url(obj) -> str:
    return admin_url(obj._meta.app_label, f"{obj._meta.model_name}_change", obj.pk)


def changelist(model) -> str:
    return admin_url(model._meta.app_label, f"{model._meta.model_name}_changelist")
