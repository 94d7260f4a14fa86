"""The lifecycle buttons of post-mortems (submit, return to draft, publish) and of action items
(start, done, won't do, reopen): what the transition page (common.admin's TransitionPageMixin)
needs to know about each."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django_fsm import can_proceed, has_transition_perm

from common.admin.services import admin_actor, error_dict, form_errors_from
from common.admin.transition import Transition, TransitionPageMixin
from postmortems.admin.base import ReasonForm, item_status_badge, postmortem_status_badge
from postmortems.models import ActionItem, Postmortem
from postmortems.models import action_item as action_item_model
from postmortems.models import postmortem as postmortem_model
from postmortems.selectors import postmortem_stakeholders
from postmortems.services import (
    action_item_complete,
    action_item_drop,
    action_item_reopen,
    action_item_start,
    postmortem_publish,
    postmortem_return_to_draft,
    postmortem_submit,
)

STYLE = "admin/postmortems/_style.html"

POSTMORTEM_TRANSITIONS = {
    t.name: t
    for t in (
        Transition(
            "submit",
            "Submit for review",
            "submitted for review",
            "The authors think it is ready for the review meeting.",
            postmortem_model.CHANGE_PERMISSION,
        ),
        Transition(
            "return_to_draft",
            "Return to draft",
            "returned to draft",
            "The review asked for more work: the post-mortem goes back to its authors. Say what is missing; "
            "it goes on the incident's timeline.",
            postmortem_model.CHANGE_PERMISSION,
            needs_input=True,
        ),
        Transition(
            "publish",
            "Publish",
            "published",
            "Publishing is final: the post-mortem no longer changes, and its Markdown goes by email to the "
            "people below.",
            postmortem_model.PUBLISH_PERMISSION,
            needs_input=True,
        ),
    )
}
POSTMORTEM_SERVICES = {
    "submit": postmortem_submit,
    "return_to_draft": postmortem_return_to_draft,
    "publish": postmortem_publish,
}

ITEM_TRANSITIONS = {
    t.name: t
    for t in (
        Transition("start", "Start", "started", "Work on it has begun.", action_item_model.CHANGE_PERMISSION),
        Transition(
            "complete",
            "Done",
            "marked done",
            "The follow-up is in place.",
            action_item_model.CHANGE_PERMISSION,
        ),
        Transition(
            "drop",
            "Won't do",
            "dropped (won't do)",
            "The item will not be done. Say why: the reason stays on the item and goes on the incident's "
            "timeline.",
            action_item_model.CHANGE_PERMISSION,
            needs_input=True,
            danger=True,
        ),
        Transition(
            "reopen", "Reopen", "reopened", "The item is open again.", action_item_model.CHANGE_PERMISSION
        ),
    )
}
ITEM_SERVICES = {
    "start": action_item_start,
    "complete": action_item_complete,
    "drop": action_item_drop,
    "reopen": action_item_reopen,
}


def transition_buttons(model_admin: TransitionPageMixin, request: HttpRequest, obj) -> list[dict]:
    """The buttons of the transitions legal now that this user may make."""
    return [
        {
            "name": name,
            "label": transition.label,
            "url": model_admin.transition_url(obj, name),
            "needs_input": transition.needs_input,
            "danger": transition.danger,
        }
        for name, transition in model_admin.transitions.items()
        if can_proceed(getattr(obj, name)) and has_transition_perm(getattr(obj, name), request.user)
    ]


class PostmortemTransitionsMixin(TransitionPageMixin):
    transitions = POSTMORTEM_TRANSITIONS

    def transition_subject(self, postmortem: Postmortem) -> str:
        return f"The post-mortem of {postmortem.incident.reference}"

    def transition_form(self, postmortem: Postmortem, transition: Transition, **kwargs) -> ReasonForm:
        if transition.name == "return_to_draft":
            return ReasonForm(reason_help="What the review asked for.", **kwargs)
        form = ReasonForm(**kwargs)
        del form.fields["reason"]
        return form

    def transition_call(
        self, request: HttpRequest, postmortem: Postmortem, transition: Transition, form
    ) -> None:
        kwargs = {"reason": form.cleaned_data["reason"]} if transition.name == "return_to_draft" else {}
        POSTMORTEM_SERVICES[transition.name](postmortem=postmortem, by=admin_actor(request), **kwargs)

    def transition_refused(
        self, request: HttpRequest, transition: Transition, form, exc: ValidationError
    ) -> bool:
        # Submitting and publishing need sections written: say which, on the page to fix them.
        for field, field_messages in error_dict(exc).items():
            label = f"{field.replace('_', ' ').capitalize()}: " if field else ""
            for message in field_messages:
                messages.error(request, f"{transition.label} refused. {label}{message}")
        return False

    def transition_page(self, request: HttpRequest, postmortem: Postmortem, transition: Transition) -> dict:
        incident = postmortem.incident
        page = {
            "title": f"{transition.label}: post-mortem of {incident.reference}",
            "crumb": incident.reference,
            "summary": format_html(
                "{} <strong>{}</strong> {}",
                postmortem_status_badge(postmortem.status),
                incident.reference,
                incident.title,
            ),
            "style_template": STYLE,
        }
        if transition.name == "publish":
            recipients = postmortem_stakeholders(postmortem)
            addresses = format_html_join(", ", "<code>{}</code>", ((a,) for a in recipients))
            page["after_explanation"] = format_html(
                "It goes to: {}.",
                addresses or format_html("<em>nobody (no stakeholder has an address)</em>"),
            )
        return page


class ActionItemTransitionsMixin(TransitionPageMixin):
    transitions = ITEM_TRANSITIONS

    def transition_subject(self, item: ActionItem) -> str:
        return "The action item"

    def transition_closed_message(
        self, request: HttpRequest, item: ActionItem, transition: Transition
    ) -> str:
        return f"The action item is {item.get_status_display().lower()}: it cannot be {transition.done}."

    def transition_form(self, item: ActionItem, transition: Transition, **kwargs) -> ReasonForm:
        form = ReasonForm(
            reason_required=transition.name == "drop", reason_help="Why it will not be done.", **kwargs
        )
        if transition.name != "drop":
            del form.fields["reason"]
        return form

    def transition_call(self, request: HttpRequest, item: ActionItem, transition: Transition, form) -> None:
        kwargs = {"reason": form.cleaned_data["reason"]} if transition.name == "drop" else {}
        ITEM_SERVICES[transition.name](item=item, by=admin_actor(request), **kwargs)

    def transition_refused(
        self, request: HttpRequest, transition: Transition, form, exc: ValidationError
    ) -> bool:
        if transition.needs_input:
            form_errors_from(form, exc)
            return True
        for field_messages in error_dict(exc).values():
            for message in field_messages:
                messages.error(request, message)
        return False

    def transition_done(self, request: HttpRequest, item: ActionItem, transition: Transition, result) -> None:
        messages.success(request, f"Action item {transition.done}.")

    def transition_page(self, request: HttpRequest, item: ActionItem, transition: Transition) -> dict:
        return {
            "title": f"{transition.label}: {item}",
            "crumb": Truncator(str(item)).chars(40),
            "summary": format_html(
                "{} <strong>{}</strong> ({}, owner {}, due {})",
                item_status_badge(item.status),
                item,
                item.postmortem.incident.reference,
                item.owner,
                f"{item.due_date:%Y-%m-%d}",
            ),
            "style_template": STYLE,
        }
