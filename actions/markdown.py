"""Markdown to HTML for what people write in actions (runbook steps): CommonMark with raw HTML
turned off, so a step's `<script>` is shown as text; markdown-it also refuses javascript:, vbscript:
and data: links."""

from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark", {"html": False})


def markdown_html(text: str) -> SafeString:
    return mark_safe(_markdown.render(text or ""))
