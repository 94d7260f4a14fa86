"""The post-mortem as a Markdown download: the renderer that lets a client ask for it, and the
error bodies such a client gets."""

from drf_spectacular.types import OpenApiTypes
from rest_framework import renderers

from common.api.serializers import ErrorSerializer

ERROR_BODIES = (("application/json", ErrorSerializer), ("text/markdown", OpenApiTypes.STR))
MARKDOWN_ERRORS = {
    401: "Not authenticated.",
    403: "Not allowed for this user.",
    404: "No such post-mortem.",
}


class MarkdownRenderer(renderers.BaseRenderer):
    """Lets a client ask for `Accept: text/markdown`; the download itself is a plain HttpResponse.
    An error answered to such a client is its detail as text."""

    media_type = "text/markdown"
    format = "md"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, dict):
            data = data.get("detail", "")
        return str(data or "").encode(self.charset)
