"""`web_router()`: the page at `/`, its assets, its settings and the answer renderer."""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from miot_harness.evidence_table import TOTAL_COUNT, is_stamp
from miot_harness.settings import HarnessSettings
from miot_harness.web.markdown import render_markdown
from miot_harness.wording import is_percent, label

# Far above any answer, and small enough that even a body of escaped astral characters
# (12 JSON bytes each) stays under the API's 64 KiB body cap, so an over-long text gets 422.
MAX_MARKDOWN_CHARS = 5_000
# Result columns of one answer's evidence whose operator words the page asks for.
MAX_COLUMNS = 200
MAX_COLUMN_CHARS = 100
JAVASCRIPT = "text/javascript; charset=utf-8"
# Served name -> (file under static/, media type). ECharts renders the evidence charts; it
# needs neither eval nor inline script, so the policy below stays as strict as it was.
ASSETS = {
    "app.js": ("app.js", JAVASCRIPT),
    "app.css": ("app.css", "text/css; charset=utf-8"),
    "echarts.min.js": ("vendor/echarts/echarts.common.min.js", JAVASCRIPT),
}
# Everything the page loads comes from this server; no inline script can run even if
# some text were ever inserted as HTML by mistake.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class RenderRequest(BaseModel):
    """Markdown the page wants turned into HTML."""

    model_config = ConfigDict(extra="forbid")

    markdown: str = Field(max_length=MAX_MARKDOWN_CHARS)
    columns: list[Annotated[str, Field(max_length=MAX_COLUMN_CHARS)]] = Field(
        default_factory=list, max_length=MAX_COLUMNS
    )


class ColumnWords(BaseModel):
    """A result column as the harness's tables name it and write it.

    `bookkeeping`: a refresh stamp or the total, which those tables leave out (the CSV keeps).
    """

    label: str
    percent: bool
    bookkeeping: bool


class RenderedAnswer(BaseModel):
    """The HTML of an answer (raw HTML from the source escaped) and its columns' words."""

    html: str
    columns: dict[str, ColumnWords] = Field(default_factory=dict)


class PageConfig(BaseModel):
    """What the page needs to show times and freshness like the harness does."""

    timezone: str
    freshness_warn_minutes: int
    freshness_refuse_minutes: int


def _static_text(path: str) -> str:
    return resources.files("miot_harness.web").joinpath("static", path).read_text("utf-8")


def web_router(settings: HarnessSettings) -> APIRouter:
    """Routes for the operator's page, configured from the app's settings."""
    page = _static_text("index.html")
    assets = {name: _static_text(path) for name, (path, _) in ASSETS.items()}
    # `no-cache` revalidates every load; the tag lets the browser keep the 700 kB chart
    # library instead of fetching it again.
    etags = {
        name: f'"{hashlib.sha256(text.encode()).hexdigest()[:20]}"' for name, text in assets.items()
    }
    config = PageConfig(
        timezone=settings.timezone,
        freshness_warn_minutes=settings.nexo_freshness_warn_minutes,
        freshness_refuse_minutes=settings.nexo_freshness_refuse_minutes,
    )
    router = APIRouter(tags=["page"])

    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> HTMLResponse:
        return HTMLResponse(page, headers=PAGE_HEADERS)

    @router.get("/ui/assets/{name}", include_in_schema=False)
    async def asset(name: str, request: Request) -> Response:
        if name not in assets:
            raise HTTPException(status_code=404, detail="no such asset")
        headers = {**PAGE_HEADERS, "ETag": etags[name]}
        if request.headers.get("if-none-match") == etags[name]:
            return Response(status_code=304, headers=headers)
        return Response(assets[name], media_type=ASSETS[name][1], headers=headers)

    @router.get("/ui/config")
    async def page_config() -> PageConfig:
        """Time zone and freshness thresholds the page uses for its badge."""
        return config

    @router.post(
        "/ui/render",
        responses={
            413: {"description": "The body exceeds the server's size cap"},
            422: {"description": "The body is not a JSON object with `markdown`"},
        },
    )
    async def render(body: RenderRequest) -> RenderedAnswer:
        """Render an answer's Markdown on the server, raw HTML disabled; label its columns."""
        columns = {
            key: ColumnWords(
                label=label(key),
                percent=is_percent(key),
                bookkeeping=is_stamp(key) or key == TOTAL_COUNT,
            )
            for key in body.columns
        }
        return RenderedAnswer(html=render_markdown(body.markdown), columns=columns)

    return router
