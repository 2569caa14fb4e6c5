"""Server-side Markdown rendering for answers, with raw HTML disabled."""

from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt


@cache
def _renderer() -> MarkdownIt:
    # "commonmark" plus tables and strikethrough; `html: False` escapes any raw HTML in the
    # text, and markdown-it's link validator already drops javascript:/vbscript:/data: URLs.
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        ["table", "strikethrough"]
    )


def render_markdown(text: str) -> str:
    """HTML for a Markdown answer; any HTML in the source comes out as text."""
    return _renderer().render(text)
