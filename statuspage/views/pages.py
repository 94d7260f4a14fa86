"""The public pages (server-rendered, no JavaScript, nothing loaded from elsewhere)."""

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from statuspage.branding import Branding
from statuspage.views.public import public_page


@public_page
def index(request: HttpRequest, page: Branding) -> HttpResponse:
    response = TemplateResponse(request, "statuspage/index.html", {"page": page})
    return response.render()
