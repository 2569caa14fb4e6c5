"""The page (Chromium) shows a thread to its owner alone: another user of the tenant whose tab
holds the owner's thread id gets 404, sees none of it, and asks in a thread of their own."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from api_support import API_KEYS, MINTRAL_KEY, RuntimeBox, api_settings, bearer, served
from pydantic import SecretStr

from miot_harness.api.app import create_app
from system_binaries import require_binary

CARLA_KEY = "key-mintral-carla"
QUESTION = "conteo de servicios por región"
CHROMIUM_ARGS = ["--disable-gpu", "--no-first-run", "--disable-background-networking"]
ANSWER_TIMEOUT_MS = 60_000


async def test_another_users_saved_thread_is_404_on_the_page_and_shows_nothing(
    tmp_path: Path,
) -> None:
    from playwright.async_api import async_playwright

    executable = require_binary("chromium", "chromium")
    keys = {**API_KEYS, CARLA_KEY: {"tenant_id": "mintral", "user_id": "carla"}}
    settings = api_settings(tmp_path).model_copy(update={"api_keys": SecretStr(json.dumps(keys))})
    box = RuntimeBox()
    app = create_app(settings, runtime_factory=box.factory)
    async with (
        served(app) as url,
        httpx.AsyncClient(base_url=url) as client,
        async_playwright() as playwright,
    ):
        anas = await client.post("/runs", json={"message": QUESTION}, headers=bearer(MINTRAL_KEY))
        thread = anas.json()["thread_id"]
        browser = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = await browser.new_context()
            # A tab on a shared machine: Ana's conversation saved, Carla's key entered.
            await context.add_init_script(
                f"localStorage.setItem('miot.threadId', {json.dumps(thread)});"
                f"sessionStorage.setItem('miot.apiKey', {json.dumps(CARLA_KEY)});"
            )
            page = await context.new_page()
            posted: list[dict] = []
            page.on(
                "request",
                lambda r: (
                    posted.append(json.loads(r.post_data or "{}"))
                    if r.url.endswith("/runs/stream")
                    else None
                ),
            )
            async with page.expect_response(f"{url}/threads/{thread}/runs") as read:
                await page.goto(f"{url}/")
            thread_read = await read.value
            read_body = await thread_read.json()
            await page.wait_for_function("!localStorage.getItem('miot.threadId')")
            turns_before = await page.locator(".turn").count()

            await page.fill("#q", "¿y en Valparaíso?")
            await page.click("#go")
            answer = page.locator(".turn .answer").filter(has_text="Hay ")
            await answer.wait_for(timeout=ANSWER_TIMEOUT_MS)
            carlas_thread = await page.evaluate("localStorage.getItem('miot.threadId')")
            await page.locator(f'#threads .thread[data-thread-id="{carlas_thread}"]').wait_for()
            shown = await page.locator("#turns").inner_text()
            listed = await page.locator("#threads").inner_text()
        finally:
            await browser.close()
        owners = await box.get().store.list_thread(thread, "mintral")

    assert (thread_read.status, read_body) == (404, {"detail": "no such thread"})
    assert turns_before == 0, "nothing of Ana's thread is shown"
    assert posted == [{"message": "¿y en Valparaíso?"}], "the page asks afresh, not in Ana's"
    assert carlas_thread and carlas_thread != thread
    assert QUESTION not in shown and QUESTION not in listed
    assert "¿y en Valparaíso?" in shown and "¿y en Valparaíso?" in listed
    assert [(r.user_id, r.run_id) for r in owners] == [("ana", anas.json()["run_id"])]
