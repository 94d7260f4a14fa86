"""Read-only panels on admin change pages (the incident page's registry, incidents.admin.panels, is
full of them): inlines with no rows that only carry what they show to their template."""

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest


def once_per_request(request: HttpRequest, key: object, compute: Callable[[], Any]) -> Any:
    """Django's change view asks each inline for its formset more than once per page (the formsets,
    then the page's media and errors); a panel that computes what it shows does it once."""
    memo = request.__dict__.setdefault("_admin_panel_memo", {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]


class NoRowsFormSet(BaseInlineFormSet):
    """No rows, nothing to validate or save: a POST of the page without this inline's management
    form (an old tab, a script) is fine too. Subclasses name the attribute their template reads."""

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


class PanelFormSet(NoRowsFormSet):
    panel: Any = None


class PanelInline(admin.TabularInline):
    """Subclasses set `model` (any model with a foreign key to the page's), `fk_name`, `template`,
    `view_permission`, and `panel_for(request, obj)`, what the template reads as `panel`."""

    formset = PanelFormSet
    fields = ()
    extra = 0
    max_num = 0
    can_delete = False
    view_permission = ""

    def panel_for(self, request: HttpRequest, obj: Model) -> Any:
        raise NotImplementedError

    def get_formset(self, request: HttpRequest, obj: Model | None = None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        if obj is None:
            return formset
        panel = once_per_request(request, (type(self), obj.pk), lambda: self.panel_for(request, obj))
        return type(formset.__name__, (formset,), {"panel": panel})

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm(self.view_permission)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
