"""A read-only panel on the incident page (incidents.admin.panels): an inline with no rows that only
carries an object to its template. The Snapshot and Runbooks panels are built on it."""

from typing import Any

from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from incidents.admin import panels
from incidents.models import Incident


class PanelFormSet(BaseInlineFormSet):
    """No rows, nothing to validate or save: a POST of the incident page without this inline's
    management form (an old tab, a script) is fine too."""

    panel: Any = None

    def get_queryset(self):
        return self.model.objects.none()

    def initial_form_count(self) -> int:
        return 0

    def total_form_count(self) -> int:
        return 0

    def full_clean(self) -> None:
        self._errors = []
        self._non_form_errors = self.error_class(renderer=self.renderer)

    def save(self, commit: bool = True) -> list:
        return []


class PanelInline(admin.TabularInline):
    """Subclasses set `model` (any model with a foreign key to Incident), `fk_name`, `template`,
    `view_permission`, and `panel_for(request, incident)`, what the template reads as `panel`."""

    formset = PanelFormSet
    fields = ()
    extra = 0
    max_num = 0
    can_delete = False
    view_permission = ""

    def panel_for(self, request: HttpRequest, incident: Incident) -> Any:
        raise NotImplementedError

    def get_formset(self, request: HttpRequest, obj: Incident | None = None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        if obj is None:
            return formset
        panel = panels.once_per_request(request, (type(self), obj.pk), lambda: self.panel_for(request, obj))
        return type(formset.__name__, (formset,), {"panel": panel})

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm(self.view_permission)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
