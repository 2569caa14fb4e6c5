"""An answer on the page in Chromium: the prose, then each result's rows once in its evidence
panel; every row asked for; a run that waits in the admission line says so, and one that
finds no slot in time says when to try again."""

from __future__ import annotations

import pytest
from web_page_support import (
    ANSWER_TIMEOUT_MS,
    API_KEYS,
    LAPTOP,
    MINTRAL_KEY,
    Watched,
    ask,
    done_turn,
    enter_key,
    open_page,
    page_app,
    record_of,
    serving,
)

from harness_support import demo_settings
from miot_harness.api.runs import RETRY_AFTER_SECONDS

pytestmark = pytest.mark.browser


async def test_a_ranking_shows_the_prose_first_then_its_rows_once(browser, page_server):
    watched = await open_page(browser, page_server, LAPTOP)
    page = watched.page
    turn = await ask(page, "¿qué transportista tuvo el peor cumplimiento?", key=MINTRAL_KEY)
    record = await record_of(page, turn, MINTRAL_KEY)
    rows = record["artifacts"]["evidence"][0]["rows"]
    carriers = [row["transportista"] for row in rows]
    assert len(carriers) == len(set(carriers)) > 1
    # The record's answer keeps the harness's table after the prose: the CLI and MCP print it.
    assert all(f"| {carrier} |" in record["answer"] for carrier in carriers)

    answer = turn.locator(".answer")
    prose = await answer.inner_text()
    assert "LogiAndes" in prose  # the ranking's first row, named by the prose
    assert await answer.locator("table").count() == 0
    assert "Mostrando" not in prose and "Rendimiento por transportista" not in prose

    evidence = turn.locator(".evidence")
    assert (await answer.bounding_box())["y"] < (await evidence.bounding_box())["y"]
    await evidence.locator(".table-fold summary").click()
    assert await turn.locator("table").count() == 1
    cells = await turn.locator("td").all_inner_texts()
    assert sorted(cell for cell in cells if cell in carriers) == sorted(carriers)
    # Columns in the words of the harness's tables; shares as "71,9 %".
    headers = await turn.locator("th").all_inner_texts()
    assert headers[:2] == ["Transportista", "Servicios"] and "% a tiempo" in headers
    # Refresh stamps are the freshness badge's, not a column (the CSV keeps them).
    stamps = [key for key in rows[0] if key.startswith("refreshed_at")]
    assert stamps and not [header for header in headers if header.startswith("Refreshed")]
    share = headers.index("% a tiempo")
    first = await turn.locator("tbody tr").nth(0).locator("td").all_inner_texts()
    assert first[share] == f"{rows[0]['pct_a_tiempo']:.1f} %".replace(".", ",")
    # The appended block's title and notes stay with the rows they describe.
    assert await evidence.locator(".evidence-title").inner_text() == "Rendimiento por transportista"
    notes = await evidence.locator(".evidence-note").all_inner_texts()
    assert f"Mostrando {len(rows)} de {len(rows)}." in notes
    assert any(note.startswith("Ordenado por % a tiempo") for note in notes)
    assert watched.errors == []


async def test_the_page_shows_every_row_the_question_asked_for(browser, page_server):
    watched = await open_page(browser, page_server, LAPTOP)
    page = watched.page
    turn = await ask(page, "cola crítica de hoy en la RM, los 10 primeros", key=MINTRAL_KEY)
    record = await record_of(page, turn, MINTRAL_KEY)
    item = record["artifacts"]["evidence"][0]
    assert item["args"]["limit"] == 10 and item["total_count"] > 10
    assert len(item["rows"]) == 10
    evidence = turn.locator(".evidence")
    assert await evidence.locator("tbody tr").count() == 10
    codes = await evidence.locator("tbody tr td:first-child").all_inner_texts()
    assert codes == [row["codigo"] for row in item["rows"]]
    caption = await evidence.locator(".evidence-source").inner_text()
    assert caption.endswith(f"10 de {item['total_count']} filas")
    assert f"Mostrando 10 de {item['total_count']}." in await evidence.inner_text()
    assert await turn.locator(".answer table").count() == 0
    assert watched.errors == []


async def send_as_mintral(browser, url: str, question: str) -> Watched:
    """Open the page, give it mintral's key and send `question` without waiting for the answer."""
    watched = await open_page(browser, url, LAPTOP)
    await watched.page.click("#change-key")
    await enter_key(watched.page, MINTRAL_KEY)
    await watched.page.fill("#q", question)
    await watched.page.click("#go")
    return watched


async def test_a_run_waiting_for_a_slot_shows_its_place_then_its_answer(browser, demo_db, tmp_path):
    settings = demo_settings(demo_db, tmp_path, API_KEYS, max_concurrent_runs=1)
    app = page_app(settings)
    async with serving(app) as (url, _):
        admission = app.state.api.launcher.admission
        # Another operator's run holds the only slot until released below.
        held = admission.enter(("mintral", "otra-operadora"))
        assert held.running
        watched = await send_as_mintral(browser, url, "resumen del centro de control de hoy")
        page = watched.page
        waiting = page.locator(".turn .working[data-queued]")
        await waiting.wait_for()
        assert await waiting.inner_text() == "En espera (posición 1)…"
        assert admission.waiting == 1
        first = page.locator("#timeline .event").first
        assert "posición 1 en la fila" in await first.inner_text()

        admission.release(held)
        turn = done_turn(page, 0)
        await turn.wait_for(timeout=ANSWER_TIMEOUT_MS)
        assert "status-completed" in await turn.get_attribute("class")
        assert await turn.locator(".chart-kpi_tiles .tile").count() > 0
        labels = await page.locator("#timeline .event strong").all_inner_texts()
        assert labels[:2] == ["En espera", "Inicio"] and labels[-1] == "Fin"
        assert watched.errors == []


# splitAnswer on answers the harness could write: the appended blocks are split off only when
# they are exactly one block per evidence item with rows, each holding all of its rows.
SPLIT_CASES = r"""
(() => {
  const rows = (n) => Array.from({ length: n }, (_, i) => ({ codigo: "SV-" + i }));
  const table = (n) => ["| Código |", "| --- |", ...rows(n).map((r) => "| " + r.codigo + " |")];
  const note = (n) => "_Mostrando " + n + " de 9._";
  const block = (title, n) => ["**" + title + "**", "", ...table(n), "", note(n)];
  const answer = (...parts) => parts.map((p) => p.join("\n")).join("\n\n");
  const prose = ["Cola crítica: **9** en total."];
  const own = ["**Resumen propio**", "", ...table(1)];
  const two = [{ rows: rows(2) }, { output: { data: { total: 3 } } }, { rows: rows(3) }];
  const cases = {
    split: splitAnswer(answer(prose, block("Cola", 2), block("Eventos", 3)), two),
    own_table_kept: splitAnswer(answer(prose, own, block("Cola", 2)), [{ rows: rows(2) }]),
    rows_differ: splitAnswer(answer(prose, block("Cola", 2)), [{ rows: rows(3) }]),
    no_block: splitAnswer(answer(prose), [{ rows: rows(2) }]),
    no_rows: splitAnswer(answer(prose, own), [{ rows: [] }]),
    text_between: splitAnswer(
      answer(prose, block("Cola", 2), ["**Eventos**: ninguna fila."], block("POD", 1), ["Fin."]),
      [{ rows: rows(2) }, { rows: [] }, { rows: rows(1) }],
    ),
  };
  return Object.fromEntries(Object.entries(cases).map(([k, v]) => [k, {
    prose: v.prose, appended: v.appended,
  }]));
})()
"""


async def test_the_prose_is_told_from_the_appended_tables_only_when_they_match(
    browser, page_server
):
    watched = await open_page(browser, page_server, LAPTOP)
    cases = await watched.page.evaluate(SPLIT_CASES)
    prose = "Cola crítica: **9** en total."
    assert cases["split"] == {
        "prose": prose,
        "appended": {
            "0": {"title": "Cola", "notes": ["Mostrando 2 de 9."]},
            "2": {"title": "Eventos", "notes": ["Mostrando 3 de 9."]},
        },
    }
    own = cases["own_table_kept"]
    assert own["prose"] == prose + "\n\n**Resumen propio**\n\n| Código |\n| --- |\n| SV-0 |"
    assert list(own["appended"]) == ["0"]
    for whole in ("rows_differ", "no_block", "no_rows"):
        assert cases[whole]["appended"] == {}, whole
        assert cases[whole]["prose"].startswith(prose), whole
    assert cases["rows_differ"]["prose"].endswith("_Mostrando 2 de 9._")
    # Text around the blocks (an empty result's line, a closing sentence) stays in the prose.
    between = cases["text_between"]
    assert between["prose"] == prose + "\n\n**Eventos**: ninguna fila.\n\nFin."
    assert between["appended"] == {
        "0": {"title": "Cola", "notes": ["Mostrando 2 de 9."]},
        "2": {"title": "POD", "notes": ["Mostrando 1 de 9."]},
    }


async def test_a_run_that_finds_no_slot_in_time_says_to_try_again(browser, demo_db, tmp_path):
    settings = demo_settings(demo_db, tmp_path, API_KEYS, max_concurrent_runs=1, queue_wait_s=0.5)
    app = page_app(settings)
    async with serving(app) as (url, _):
        admission = app.state.api.launcher.admission
        held = admission.enter(("mintral", "otra-operadora"))
        try:
            watched = await send_as_mintral(browser, url, "resumen del centro de control de hoy")
            page = watched.page
            turn = done_turn(page, 0)
            await turn.wait_for(timeout=ANSWER_TIMEOUT_MS)
        finally:
            admission.release(held)
        assert await turn.locator(".error").inner_text() == (
            "No se liberó un cupo a tiempo: hay demasiadas consultas en curso. "
            f"Vuelva a intentarlo en {RETRY_AFTER_SECONDS} s."
        )
        labels = await page.locator("#timeline .event strong").all_inner_texts()
        assert labels == ["En espera", "Falla"]
        assert await page.locator("#go").is_enabled()
        assert watched.errors == []
