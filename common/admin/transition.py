"""The page behind a lifecycle button (acknowledge an incident, approve a run, publish a post-mortem,
drop an action item): GET shows what the transition does and its form, POST applies it through the
service and goes back to the object's page. One URL per transition, one template
(templates/admin/transition.html)."""

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django_fsm import can_proceed

from common.admin.services import form_errors_from
from common.exceptions import ApplicationError, ConflictError


@dataclass(frozen=True)
class Transition:
    name: str  # The model's transition method, and the last part of the page's URL.
    label: str
    done: str  # "<subject> was <done>."
    explanation: str
    permission: str  # Needed besides seeing the object.
    needs_input: bool = False
    danger: bool = False


class TransitionPageMixin:
    """For a ModelAdmin whose model moves through a lifecycle. The admin sets `transitions` and
    provides `transition_subject(obj)` ("INC-2025-0001", "Run #12"), `transition_form(obj,
    transition, **kwargs)` (a form with a `seen_status` field), `transition_call(request, obj,
    transition, form)` (the service call) and `transition_page(request, obj, transition)` (the page's
    title, crumb and summary); the other `transition_*` methods have defaults to override.

    A page opened on one status and posted after the object moved on gets a conflict, never a
    transition the user did not see; the service's own refusals come back as messages or form
    errors, and nothing is written."""

    transitions: dict[str, Transition] = {}
    transition_path = "transition"  # The URL is <object id>/<transition_path>/<name>/.
    transition_stale_advice = "Check it again."
    transition_back_label = "Cancel"

    def get_urls(self):
        view = self.admin_site.admin_view(self.transition_view)
        own = [
            path(
                f"<path:object_id>/{self.transition_path}/<str:name>/", view, name=self._transition_url_name()
            )
        ]
        # Before the defaults, whose "<path:object_id>/" would swallow these.
        return own + super().get_urls()

    def _transition_url_name(self) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{self.transition_path}"

    def transition_url(self, obj, name: str) -> str:
        return reverse(f"{self.admin_site.name}:{self._transition_url_name()}", args=[obj.pk, name])

    # --- Defaults an admin may override ----------------------------------------------------------

    def transition_open(self, request: HttpRequest, obj, transition: Transition) -> bool:
        """Whether the page may be shown: the transition is legal from the current status."""
        return can_proceed(getattr(obj, transition.name))

    def transition_closed_message(self, request: HttpRequest, obj, transition: Transition) -> str:
        return (
            f"{self.transition_subject(obj)} cannot be {transition.done} now: "
            f"it is {obj.get_status_display().lower()}."
        )

    def transition_refused(
        self, request: HttpRequest, transition: Transition, form: forms.Form, exc: ValidationError
    ) -> bool:
        """Show the service's ValidationError; True when it went into the form shown again, False
        when it went into messages (the user goes back to the object's page)."""
        form_errors_from(form, exc)
        return True

    def transition_error_message(self, exc: ApplicationError) -> str:
        return exc.message

    def transition_done(self, request: HttpRequest, obj, transition: Transition, result: Any) -> None:
        messages.success(request, f"{self.transition_subject(obj)} was {transition.done}.")

    # --- The view --------------------------------------------------------------------------------

    def transition_view(self, request: HttpRequest, object_id: str, name: str) -> HttpResponse:
        transition = self.transitions.get(name)
        if transition is None:
            raise Http404("No such transition.")
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(f"No such {self.opts.verbose_name}.")
        if not self.has_view_or_change_permission(request, obj) or not request.user.has_perm(
            transition.permission
        ):
            raise PermissionDenied
        change_url = reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk]
        )
        if request.method == "POST":
            form = self.transition_form(obj, transition, data=request.POST)
            if form.is_valid():
                response = self._transition_apply(request, obj, transition, form, change_url)
                if response is not None:
                    return response
        else:
            if not self.transition_open(request, obj, transition):
                messages.warning(request, self.transition_closed_message(request, obj, transition))
                return HttpResponseRedirect(change_url)
            form = self.transition_form(obj, transition, initial={"seen_status": obj.status})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "subtitle": None,
            "media": self.media + form.media,
            "transition": transition,
            "form": form,
            "change_url": change_url,
            "back_label": self.transition_back_label,
            **self.transition_page(request, obj, transition),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/transition.html", context)

    def _transition_apply(
        self, request: HttpRequest, obj, transition: Transition, form: forms.Form, change_url: str
    ) -> HttpResponse | None:
        """Call the service; None means the form now carries the service's errors."""
        seen = form.cleaned_data.get("seen_status")
        try:
            if seen and seen != obj.status:
                raise ConflictError(
                    f"{self.transition_subject(obj)} changed while you were looking at it: it is now "
                    f"{obj.get_status_display().lower()}. {self.transition_stale_advice}"
                )
            result = self.transition_call(request, obj, transition, form)
        except ValidationError as exc:
            if self.transition_refused(request, transition, form, exc):
                return None
            return HttpResponseRedirect(change_url)
        except ApplicationError as exc:
            messages.error(request, self.transition_error_message(exc))
            return HttpResponseRedirect(change_url)
        self.transition_done(request, obj, transition, result)
        return HttpResponseRedirect(change_url)
