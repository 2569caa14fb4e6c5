"""The API docs: `/openapi.json` and `/docs` follow the API's keys, and the page runs from the
package under a strict CSP, loading nothing from another origin (Chromium)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from api_support import MINTRAL_KEY, RuntimeBox, api_settings, asgi_client, bearer, served

from miot_harness.api.app import create_app
from system_binaries import require_binary

DOCS_PATHS = ("/openapi.json", "/docs", "/docs/assets/swagger-ui-bundle.js")
CHROMIUM_ARGS = ["--disable-gpu", "--no-first-run", "--disable-background-networking"]


@pytest.mark.parametrize("path", DOCS_PATHS)
async def test_docs_need_a_key_when_keys_are_configured(keyed_app, path: str) -> None:
    async with asgi_client(keyed_app) as client:
        assert (await client.get(path)).status_code == 401
        assert (await client.get(path, headers=bearer("wrong"))).status_code == 401
        assert (await client.get(path, headers=bearer(MINTRAL_KEY))).status_code == 200


async def test_redoc_is_not_served(keyed_app) -> None:
    async with asgi_client(keyed_app) as client:
        assert (await client.get("/redoc", headers=bearer(MINTRAL_KEY))).status_code == 404


async def test_the_page_has_a_strict_policy_and_names_no_other_origin(keyed_app) -> None:
    async with asgi_client(keyed_app) as client:
        page = await client.get("/docs", headers=bearer(MINTRAL_KEY))
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe" not in policy
    assert "http://" not in page.text and "https://" not in page.text
    assert "<script>" not in page.text, "no inline script"


async def test_the_page_can_be_turned_off(tmp_path: Path, box: RuntimeBox) -> None:
    app = create_app(api_settings(tmp_path, docs_enabled=False), runtime_factory=box.factory)
    async with asgi_client(app) as client:
        assert (await client.get("/docs", headers=bearer(MINTRAL_KEY))).status_code == 404
        schema = await client.get("/openapi.json", headers=bearer(MINTRAL_KEY))
        assert schema.status_code == 200, "the schema stays available to clients with a key"


async def test_chromium_renders_the_docs_page_from_this_server_only(keyed_app) -> None:
    from playwright.async_api import async_playwright

    executable = require_binary("chromium", "chromium")
    async with served(keyed_app) as url, async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = await browser.new_context(extra_http_headers=bearer(MINTRAL_KEY))
            page = await context.new_page()
            requested: list[str] = []
            page.on("request", lambda request: requested.append(request.url))
            await page.add_init_script(
                "window.__violations = [];"
                "document.addEventListener('securitypolicyviolation',"
                " e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
            )
            await page.goto(f"{url}/docs")
            await page.wait_for_selector(".opblock", timeout=30_000)
            operations = await page.locator(".opblock").count()
            violations = await page.evaluate("window.__violations")
        finally:
            await browser.close()
    schema_paths = keyed_app.openapi()["paths"]
    assert operations == sum(len(methods) for methods in schema_paths.values())
    assert violations == []
    origins = {urlsplit(address).netloc for address in requested if not address.startswith("data:")}
    assert origins == {urlsplit(url).netloc}, requested
    assert f"{url}/openapi.json" in requested
