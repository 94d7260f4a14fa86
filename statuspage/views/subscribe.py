"""Subscribing to the status page: the form (never cached: it carries a CSRF token), the confirm
link (GET shows a button, POST confirms: mail scanners follow GET links) and the unsubscribe link
(GET shows a button, POST unsubscribes, also as RFC 8058's one-click POST from a mail client).

The form answers the same whether the address is new, pending or already subscribed, so it tells
nobody who is subscribed. Link tokens are the path: the pages send no Referer and are never cached,
and config/logging.py cuts the tokens out of request logs."""

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from common.actor import Actor, Source
from common.admin.services import form_errors_from
from common.exceptions import ApplicationError
from statuspage.branding import Branding, branding
from statuspage.choices import SubscriberStatus
from statuspage.services.subscribers import (
    subscriber_confirm_link,
    subscriber_from_link,
    subscriber_subscribe,
    subscriber_unsubscribe_link,
)
from statuspage.subscribe_limits import subscribe_rate_take
from statuspage.subscriber_links import CONFIRM, UNSUBSCRIBE, LinkInvalidError
from statuspage.subscriber_selectors import shown_components, subscribable_components
from statuspage.views.public import may_read

FORM_ACTOR = Actor.system(source=Source.PAGE_LINK, label="subscribe form")


class SubscribeForm(forms.Form):
    email = forms.EmailField(max_length=254)
    components = forms.TypedMultipleChoiceField(coerce=int, required=False)

    def __init__(self, *args, component_ids: list[int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["components"].choices = [(pk, pk) for pk in component_ids]


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    response = render(request, f"statuspage/{template}", context, status=status)
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    page = branding()
    if not may_read(request, page):
        return redirect_to_login(request.get_full_path())
    groups = subscribable_components()
    ids = [component.pk for choices in groups for component in choices.components]
    if request.method == "GET":
        form = SubscribeForm(component_ids=ids)
        return _form(request, page, form, groups)
    form = SubscribeForm(request.POST, component_ids=ids)
    if not form.is_valid():
        return _form(request, page, form, groups, status=400)
    refusal = subscribe_rate_take(request, form.cleaned_data["email"])
    if refusal is not None:
        response = _page(
            request,
            "subscribe_refused.html",
            {"page": page, "minutes": max(1, -(-refusal.retry_after // 60))},
            status=429,
        )
        response["Retry-After"] = str(refusal.retry_after)
        return response
    try:
        subscriber_subscribe(
            by=FORM_ACTOR,
            email=form.cleaned_data["email"],
            components=shown_components(form.cleaned_data["components"]),
        )
    except ValidationError as error:
        form_errors_from(form, error)
        return _form(request, page, form, groups, status=400)
    return _page(request, "subscribe_sent.html", {"page": page})


def _form(request: HttpRequest, page: Branding, form: SubscribeForm, groups, status: int = 200):
    chosen = {int(pk) for pk in form["components"].value() or [] if str(pk).isdigit()}
    context = {"page": page, "form": form, "groups": groups, "chosen": chosen}
    return _page(request, "subscribe.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    page = branding()
    context = {"page": page}
    try:
        subscriber = subscriber_from_link(token=token, purpose=CONFIRM)
        if subscriber.status == SubscriberStatus.ACTIVE:
            context["done"] = "Your subscription is confirmed."
        elif request.method == "POST":
            subscriber_confirm_link(token=token)
            context["done"] = "Your subscription is confirmed. Updates will come to your inbox."
    except LinkInvalidError as error:
        return _page(request, "subscribe_confirm.html", {**context, "error": str(error)}, status=400)
    except ApplicationError as error:  # unsubscribed meanwhile
        return _page(request, "subscribe_confirm.html", {**context, "error": error.message}, status=409)
    return _page(request, "subscribe_confirm.html", context)


# The POST is authenticated by the signed token, not a session: RFC 8058's one-click POST comes from
# the mail provider without a CSRF token or cookies. GET changes nothing and is not CSRF-checked anyway.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    page = branding()
    context = {"page": page}
    try:
        if request.method == "GET":
            subscriber = subscriber_from_link(token=token, purpose=UNSUBSCRIBE)
            if subscriber.status == SubscriberStatus.UNSUBSCRIBED:
                context["done"] = "You are unsubscribed."
        else:
            subscriber_unsubscribe_link(token=token)
            context["done"] = "You are unsubscribed. No more status updates will be sent to you."
    except LinkInvalidError as error:
        return _page(request, "subscribe_unsubscribe.html", {**context, "error": str(error)}, status=400)
    return _page(request, "subscribe_unsubscribe.html", context)
