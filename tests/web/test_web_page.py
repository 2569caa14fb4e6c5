"""The operator's page in real Chromium against the harness on a real uvicorn socket."""

from __future__ import annotations

import asyncpg
import pytest
from web_page_support import (
    ANSWER_TIMEOUT_MS,
    LAPTOP,
    MINTRAL_KEY,
    OTHER_KEY,
    PHONE,
    WATCH_CSP,
    ask,
    done_turn,
    enter_key,
    open_page,
    page_app,
    serving,
)

from miot_harness.demo.vocabulary import HOSTILE_NOTES
from miot_harness.settings import load_settings

pytestmark = pytest.mark.browser


async def test_kpi_and_table_questions_show_answer_table_freshness_and_trace(
    browser, page_server, artifacts
):
    watched = await open_page(browser, page_server, LAPTOP)
    page = watched.page
    kpi = await ask(page, "resumen del centro de control de hoy", key=MINTRAL_KEY)
    assert "status-completed" in await kpi.get_attribute("class")
    assert (await kpi.locator(".answer").inner_text()).strip()
    badge = kpi.locator(".freshness")
    assert await badge.get_attribute("data-level") in {"fresh", "warn"}
    assert "actualizados" in await badge.inner_text()
    timeline = page.locator("#timeline")
    assert "coordinador_centro_control" in await timeline.inner_text()
    assert await timeline.locator(".event-tool-completed").count() >= 1
    assert await timeline.locator(".event-run-completed").count() == 1

    table = await ask(page, "cola crítica de hoy en la Región Metropolitana")
    rows = table.locator(".evidence tbody tr")
    assert await rows.count() >= 1
    assert "coordinador_cola_critica" in await page.locator("#plan").inner_text()
    assert await table.locator(".freshness").count() == 1
    assert await page.locator("#server-state").inner_text() != "Sin conexión"

    await page.screenshot(path=str(artifacts / "page-laptop.png"), full_page=True)

    # The thread's earlier turns come back from the server after a reload.
    await page.reload()
    await done_turn(page, 1).wait_for()
    questions = await page.locator(".turn .question").all_inner_texts()
    assert questions == [
        "resumen del centro de control de hoy",
        "cola crítica de hoy en la Región Metropolitana",
    ]
    # Each turn can bring its own plan and trace back into the panel.
    await page.locator(".turn").nth(0).locator(".show-trace").click()
    assert "coordinador_centro_control" in await page.locator("#plan").inner_text()
    assert watched.errors == [] and watched.dialogs == []


@pytest.mark.security
async def test_another_tenant_sees_the_refusal(browser, page_server, artifacts):
    watched = await open_page(browser, page_server, LAPTOP)
    page = watched.page
    await page.click("#change-key")
    await enter_key(page, OTHER_KEY)
    turn = await ask(page, "resumen del centro de control de hoy")
    assert "status-refused" in await turn.get_attribute("class")
    assert "otro cliente" in await turn.locator(".reason").inner_text()
    assert (await turn.locator(".answer").inner_text()).strip()
    assert await turn.locator(".evidence").count() == 0
    await page.screenshot(path=str(artifacts / "page-refusal.png"), full_page=True)
    assert watched.errors == []


# Anything the hostile notas could become if they were ever inserted as HTML or Markdown.
INJECTED = ".turns a, .turns img, .turns script, .turns iframe, .turns [onerror], .turns [onclick]"


@pytest.mark.security
async def test_hostile_notas_are_shown_as_text_at_phone_width(
    browser, page_server, demo_db, artifacts
):
    conn = await asyncpg.connect(demo_db.owner_dsn)
    try:
        hostile = await conn.fetch(
            "SELECT codigo, notas FROM nexo.servicio WHERE notas = ANY($1::text[]) ORDER BY 1",
            list(HOSTILE_NOTES),
        )
    finally:
        await conn.close()
    assert {row["notas"] for row in hostile} == set(HOSTILE_NOTES)
    markup = [row for row in hostile if row["notas"].startswith(("<", "["))]
    watched = await open_page(browser, page_server, PHONE)
    page = watched.page
    await page.evaluate(WATCH_CSP)
    for index, (codigo, notas) in enumerate(markup):
        turn = await ask(
            page, f"detalle del servicio {codigo}", key=MINTRAL_KEY if not index else None
        )
        # As text in the evidence; where the answer quotes it, as text too (no element below).
        assert notas in await turn.locator(".evidence").inner_text(), notas
    queue = await ask(page, "cola crítica de hoy")
    evidence = await queue.locator(".evidence").inner_text()
    assert any(notas in evidence for notas in HOSTILE_NOTES)
    assert await page.locator(INJECTED).count() == 0
    # Nothing was even attempted: an injected handler would have been blocked and reported.
    assert await page.evaluate("window.__cspViolations") == []
    assert watched.dialogs == [] and watched.errors == []
    assert await page.evaluate("typeof window.xss") == "undefined"
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await page.screenshot(path=str(artifacts / "page-phone.png"), full_page=True)


async def test_disabled_nexo_and_an_unreachable_server_are_explained(browser, tmp_path, artifacts):
    settings = load_settings(data_dir=tmp_path, model="offline")
    async with serving(page_app(settings)) as (url, _):
        watched = await open_page(browser, url, PHONE)
        page = watched.page
        banner = page.locator("#banner")
        await banner.wait_for()
        assert "Nexo está deshabilitado" in await banner.inner_text()
        assert await page.locator("#server-state").inner_text() == "Nexo deshabilitado"
        await page.screenshot(path=str(artifacts / "page-disabled.png"), full_page=True)
    turn_count = await page.locator(".turn").count()
    await page.fill("#q", "resumen del centro de control")
    await page.click("#go")
    await page.locator(".turn .error").nth(turn_count).wait_for()
    assert "No se pudo contactar" in await banner.inner_text()
    assert await page.locator("#server-state").inner_text() == "Sin conexión"


FRESHNESS_CASES = """
(() => {
  const at = (minutes) => new Date(Date.UTC(2026, 10, 25, 12, 0) - minutes * 60000).toISOString();
  const run = (refreshedMinutesAgo, extra) => Object.assign({
    finished_at: at(0),
    events: [],
    artifacts: refreshedMinutesAgo === null ? {} : {
      evidence: [{ tool: "coordinador_cola_critica", refreshed_at: at(refreshedMinutesAgo) }],
    },
  }, extra || {});
  const level = (record) => { const f = freshnessOf(record); return f ? f.level : null; };
  const warned = { events: [{ type: "freshness.warning", payload: {} }] };
  const refused = { events: [{ type: "run.completed", payload: { refusal_reason: "stale" } }] };
  return {
    fresh: level(run(5)),
    old: level(run(20)),
    warned: level(run(1, warned)),
    stale: level(run(200)),
    refused: level(run(null, refused)),
    none: level(run(null)),
    label: freshnessBadge(run(20)).textContent,
  };
})()
"""


async def test_freshness_badge_levels_follow_the_configured_thresholds(browser, page_server):
    watched = await open_page(browser, page_server, LAPTOP)
    levels = await watched.page.evaluate(FRESHNESS_CASES)
    assert levels == {
        "fresh": "fresh",
        "old": "warn",
        "warned": "warn",
        "stale": "stale",
        "refused": "stale",
        "none": None,
        # 11:40 UTC is 08:40 in America/Santiago (UTC-3 in November).
        "label": "Datos con retraso · actualizados 25/11, 08:40",
    }


async def test_a_wrong_key_is_asked_for_again(browser, page_server):
    watched = await open_page(browser, page_server, PHONE)
    page = watched.page
    await page.click("#change-key")
    await enter_key(page, "clave-inventada")
    await page.fill("#q", "resumen del centro de control de hoy")
    await page.click("#go")
    await page.locator("#key-form").wait_for()
    assert "no fue aceptada" in await page.locator("#key-prompt").inner_text()
    assert await page.locator(".turn").count() == 0
    await enter_key(page, MINTRAL_KEY)
    turn = done_turn(page, 0)
    await turn.wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert "status-completed" in await turn.get_attribute("class")


@pytest.mark.security
async def test_the_content_security_policy_alone_blocks_injected_script(browser, page_server):
    # Bypass the server's escaping on purpose: HTML inserted as such still cannot run script.
    watched = await open_page(browser, page_server, LAPTOP)
    page = watched.page
    await page.evaluate(WATCH_CSP)
    await page.evaluate(
        """() => {
          document.body.insertAdjacentHTML("beforeend",
            '<img src="/ui/assets/nada.png" onerror="window.pwned = 1">' +
            '<script>window.pwned = 2</script>');
          const inline = document.createElement("script");
          inline.textContent = "window.pwned = 3";
          document.body.appendChild(inline);
        }"""
    )
    await page.wait_for_function("window.__cspViolations.length >= 2")
    assert await page.evaluate("typeof window.pwned") == "undefined"
    assert set(await page.evaluate("window.__cspViolations")) <= {
        "script-src-attr",
        "script-src-elem",
    }
    assert watched.dialogs == []
