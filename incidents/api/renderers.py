"""Renderers for the timeline downloads. They claim `?format=csv|md`, which DRF reads for content
negotiation, and pass the file the view built through as it is."""

from rest_framework.renderers import BaseRenderer, JSONRenderer


class DownloadRenderer(BaseRenderer):
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if isinstance(data, str):
            return data.encode(self.charset)
        # An error (404, 403, 400) keeps the API's JSON error shape rather than posing as a file.
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return JSONRenderer().render(data)


class CsvRenderer(DownloadRenderer):
    media_type = "text/csv"
    format = "csv"


class MarkdownRenderer(DownloadRenderer):
    media_type = "text/markdown"
    format = "md"
