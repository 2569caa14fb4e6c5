"""Helpers of the page tests: the app with the page, and uvicorn on a loopback socket."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from miot_harness.api.app import create_app
from miot_harness.settings import HarnessSettings

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts" / "web"
MINTRAL_KEY = "clave-mintral-operaciones"
OTHER_KEY = "clave-acme-operaciones"
API_KEYS = {
    MINTRAL_KEY: {"tenant_id": "mintral", "user_id": "ana"},
    OTHER_KEY: {"tenant_id": "acme", "user_id": "bob"},
}
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def page_app(settings: HarnessSettings) -> FastAPI:
    """The API app, which serves the page at `/`."""
    return create_app(settings)


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[tuple[str, uvicorn.Server]]:
    """Run `app` on uvicorn at 127.0.0.1 until the block ends; yields its URL and server."""
    # Bound here and handed over, so no other process can take the port in between.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                # uvicorn reports a failed lifespan with sys.exit(3); its log says why.
                raise RuntimeError("uvicorn stopped before it started; see the captured log")
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}", server
    finally:
        server.should_exit = True
        with contextlib.suppress(SystemExit):
            await task
        sock.close()


LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
ANSWER_TIMEOUT_MS = 60_000


WATCH_CSP = """() => {
  window.__cspViolations = [];
  document.addEventListener("securitypolicyviolation",
    (e) => window.__cspViolations.push(e.violatedDirective));
}"""


@dataclass
class Watched:
    """A page plus every dialog and uncaught script error it produced."""

    page: object
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def open_page(browser, url: str, viewport: dict[str, int]) -> Watched:
    context = await browser.new_context(viewport=viewport, locale="es-CL")
    # Every policy violation from the first script on, in window.__cspViolations.
    await context.add_init_script(f"({WATCH_CSP})()")
    page = await context.new_page()
    watched = Watched(page)

    async def dismiss(dialog) -> None:
        watched.dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", dismiss)
    page.on("pageerror", lambda error: watched.errors.append(str(error)))
    await page.goto(url + "/")
    return watched


async def enter_key(page, key: str) -> None:
    await page.wait_for_selector("#api-key", state="visible")
    await page.fill("#api-key", key)
    await page.click("#save-key")


async def ask(page, question: str, *, key: str | None = None):
    """Ask and wait for the answer; `key` answers the API-key prompt a 401 brings up."""
    count = await page.locator(".turn").count()
    await page.fill("#q", question)
    await page.click("#go")
    if key is not None:
        await enter_key(page, key)
    turn = done_turn(page, count)
    await turn.wait_for(timeout=ANSWER_TIMEOUT_MS)
    return turn


def done_turn(page, index: int):
    """The turn at `index` once the page has drawn it whole (answer, evidence, charts)."""
    return page.locator(".turn[data-done]").nth(index)


async def record_of(page, turn, key: str) -> dict:
    """The stored run record behind a turn, read through the API as the page's user."""
    run_id = await turn.get_attribute("data-run-id")
    return await page.evaluate(
        """async ([runId, key]) => {
          const headers = { Authorization: "Bearer " + key };
          return (await fetch("/runs/" + runId, { headers })).json();
        }""",
        [run_id, key],
    )
