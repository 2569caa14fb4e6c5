"""Server-side Markdown rendering for answers, with raw HTML, links and images disabled."""

from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt

# Answers quote database text (a `notas` value can be "[haz clic](http://malicioso…)"), and
# the harness never writes links or images itself, so both stay literal text.
DISABLED_RULES = ["link", "image", "autolink", "reference"]


@cache
def _renderer() -> MarkdownIt:
    # "commonmark" plus tables and strikethrough; `html: False` escapes any raw HTML.
    return (
        MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
        .enable(["table", "strikethrough"])
        .disable(DISABLED_RULES)
    )


def render_markdown(text: str) -> str:
    """HTML for a Markdown answer; HTML, links and images in the source come out as text."""
    return _renderer().render(text)
