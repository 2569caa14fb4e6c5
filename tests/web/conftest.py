"""Page fixtures: the harness with the page on a real uvicorn socket, and Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from web_page_support import API_KEYS, ARTIFACTS, CHROMIUM_ARGS, page_app, serving

from harness_support import demo_settings
from system_binaries import require_binary


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where browser tests leave screenshots (git-ignored `artifacts/web`)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
async def page_server(demo_db, tmp_path_factory) -> AsyncIterator[str]:
    """The harness with the page over the session's demo database, two API keys, offline model."""
    settings = demo_settings(demo_db, tmp_path_factory.mktemp("page-data"), API_KEYS)
    async with serving(page_app(settings)) as (url, _):
        yield url


@pytest.fixture(scope="session")
async def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    from playwright.async_api import async_playwright

    executable = require_binary("chromium", "chromium")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()
