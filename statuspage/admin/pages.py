"""The small form page the status page admin's own views render (open, post an update, schedule)."""

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse


def form_page(request: HttpRequest, model_admin, context: dict) -> HttpResponse:
    """`context`: title, form, submit_label, back_url, crumb, and optionally summary, explanation."""
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "subtitle": None,
        "media": model_admin.media + context["form"].media,
        **context,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/statuspage/form_page.html", context)
