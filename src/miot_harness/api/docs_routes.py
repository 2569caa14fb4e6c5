"""The OpenAPI document and a Swagger UI page served from the package, behind the API's keys."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from miot_harness.api.state import caller

ASSET_PACKAGE = "miot_harness.api"
ASSET_FOLDER = "docs_assets"
ASSET_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "docs-init.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
# Swagger UI draws its icons as data: images; everything else comes from this server.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
DOCS_HEADERS = {
    "Content-Security-Policy": DOCS_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _asset(name: str) -> bytes:
    return resources.files(ASSET_PACKAGE).joinpath(ASSET_FOLDER, name).read_bytes()


def docs_router(*, page_enabled: bool) -> APIRouter:
    """`/openapi.json`, and `/docs` with its assets when enabled; each behind the API's keys."""
    router = APIRouter(include_in_schema=False, dependencies=[Depends(caller)])

    @router.get("/openapi.json")
    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(request.app.openapi())

    if not page_enabled:
        return router
    page = _asset("docs.html")
    assets = {name: _asset(name) for name in ASSET_TYPES}

    @router.get("/docs", response_class=HTMLResponse)
    async def docs() -> HTMLResponse:
        return HTMLResponse(page, headers=DOCS_HEADERS)

    @router.get("/docs/assets/{name}")
    async def asset(name: str) -> Response:
        if name not in assets:
            raise HTTPException(status_code=404, detail="no such asset")
        return Response(assets[name], media_type=ASSET_TYPES[name], headers=DOCS_HEADERS)

    return router
