"""The page's charts, conversations, clarifications, CSV export and phone layout in Chromium."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

import httpx
import pytest
from web_page_support import (
    LAPTOP,
    PHONE,
    REPO,
    ask,
    done_turn,
    enter_key,
    open_page,
    page_app,
    record_of,
    serving,
)

from harness_support import demo_settings

pytestmark = pytest.mark.browser

DOCS = REPO / "docs"

# One user per test, so each sees only the conversations it made.
KEYS = {
    f"clave-{user}": {"tenant_id": "mintral", "user_id": user}
    for user in ("carla", "diego", "elena", "franco", "gabriela", "hugo", "ines", "julia")
}


@pytest.fixture(scope="module")
async def server(demo_db, tmp_path_factory) -> AsyncIterator[str]:
    settings = demo_settings(
        demo_db, tmp_path_factory.mktemp("chart-page-data"), KEYS, nexo_critic_enabled=True
    )
    async with serving(page_app(settings)) as (url, _):
        yield url


# What the rendered chart holds: ECharts' own list data per series (not the option it was
# given) and the texts of the SVG it drew.
RENDERED = """(canvas) => {
  const chart = echarts.getInstanceByDom(canvas);
  const series = chart.getModel().getSeries().map((model) => {
    const data = model.getData();
    const dims = data.dimensions;
    const rows = [];
    for (let i = 0; i < data.count(); i++) {
      const row = {};
      for (const dim of dims) {
        // A category is stored as its index in the axis' categories.
        const meta = data.getDimensionInfo(dim).ordinalMeta;
        row[dim] = meta ? meta.categories[data.get(dim, i)] : data.get(dim, i);
      }
      rows.push(row);
    }
    return { name: model.name, type: model.subType, rows };
  });
  const texts = Array.from(canvas.querySelectorAll("svg text")).map((t) => t.textContent);
  return { series, texts, marks: canvas.querySelectorAll("svg path").length };
}"""


def percent_text(value: float) -> str:
    return f"{value:.1f} %".replace(".", ",")


async def test_kpi_tiles_eta_bars_and_daily_lines_draw_the_evidence(browser, server, artifacts):
    key = "clave-carla"
    watched = await open_page(browser, server, LAPTOP)
    page = watched.page

    kpi = await ask(page, "resumen del centro de control de hoy", key=key)
    record = await record_of(page, kpi, key)
    data = record["artifacts"]["evidence"][0]["output"]["data"]
    # The critic reviewed this answer; the trace says what it found.
    concerns = record["artifacts"]["critic"]["concerns"]
    assert await page.locator("#critic-box").is_visible()
    assert await page.locator("#critic li").all_inner_texts() == (
        concerns or ["Revisó la respuesta: sin observaciones."]
    )
    tiles = kpi.locator(".chart-kpi_tiles .tile")
    shown = {
        await tile.get_attribute("data-key"): await tile.locator(".tile-value").inner_text()
        for tile in await tiles.all()
    }
    assert shown["total_servicios"] == f"{data['total_servicios']:,}".replace(",", ".")
    assert shown["n_atrasados"] == str(data["n_atrasados"])
    by_state = await kpi.locator(".chart-echarts .chart-canvas").element_handle()
    bars = (await page.evaluate(RENDERED, by_state))["series"][0]["rows"]
    assert [bar["servicios"] for bar in bars] == list(data["por_estado"].values())

    eta = await ask(page, "distribución de ETA de hoy")
    record = await record_of(page, eta, key)
    rows = record["artifacts"]["evidence"][0]["rows"]
    classes = [row["eta_clasificacion"] for row in rows]
    assert classes == ["a_tiempo", "en_riesgo", "atrasado", "sin_eta"]
    rendered = await page.evaluate(RENDERED, await eta.locator(".chart-canvas").element_handle())
    bars = rendered["series"][0]["rows"]
    assert [bar["servicios"] for bar in bars] == [row["servicios"] for row in rows]
    assert [bar["etiqueta"] for bar in bars] == ["A tiempo", "En riesgo", "Atrasado", "Sin ETA"]
    # The drawn labels are the evidence's percentages, one per bar.
    for row in rows:
        assert percent_text(row["pct"]) in rendered["texts"]
    # The table is one click away, below the chart.
    fold = eta.locator(".table-fold")
    assert not await fold.get_attribute("open")
    await fold.locator("summary").click()
    assert await eta.locator(".table-fold tbody tr").count() == len(rows)

    story = await ask(page, "¿cómo fue la semana?")
    record = await record_of(page, story, key)
    assert record["route"] == "storytelling"
    evidence = record["artifacts"]["evidence"]
    daily = next(item for item in evidence if item["tool"] == "delivery_metrics")
    canvas = story.locator(".chart-canvas").first
    lines = (await page.evaluate(RENDERED, await canvas.element_handle()))["series"]
    assert [(line["type"], line["name"]) for line in lines] == [
        ("line", "Entregados"),
        ("line", "A tiempo"),
        ("line", "Fallidos"),
    ]
    for line, column in zip(lines, ("entregados", "a_tiempo", "fallidos"), strict=True):
        assert [point[column] for point in line["rows"]] == [row[column] for row in daily["rows"]]
    # The Plan panel shows the storytelling route's steps, each tool with its arguments.
    steps = record["artifacts"]["story_plan"]["steps"]
    assert [step["tool"] for step in steps] == [item["tool"] for item in evidence]
    assert await page.locator("#plan .tool").all_inner_texts() == [step["tool"] for step in steps]
    plan = await page.locator("#plan").inner_text()
    assert f"fecha_desde={daily['args']['fecha_desde']}" in plan
    assert "Sin herramientas" not in plan
    assert await page.locator("#critic-box").is_hidden()  # the story route has no critic

    assert await page.evaluate("window.__cspViolations") == []
    assert watched.errors == [] and watched.dialogs == []
    await page.screenshot(path=str(artifacts / "page-charts.png"), full_page=True)


async def test_the_sidebar_lists_conversations_and_reopens_them(browser, server):
    key = "clave-diego"
    watched = await open_page(browser, server, LAPTOP)
    page = watched.page
    await ask(page, "resumen del centro de control de hoy", key=key)
    await ask(page, "distribución de ETA de hoy")
    first_thread = await page.evaluate("localStorage.getItem('miot.threadId')")
    await page.click("#new-thread")
    assert await page.locator(".turn").count() == 0
    await ask(page, "rendimiento de transportistas de la semana")
    threads = page.locator("#threads .thread")
    # (Locators, not wait_for_function: the page's policy forbids the eval it would need.)
    await threads.nth(1).wait_for()
    # Newest first, each with its first question and a time.
    questions = await threads.locator(".thread-question").all_inner_texts()
    assert questions == [
        "rendimiento de transportistas de la semana",
        "resumen del centro de control de hoy",
    ]
    assert all(await threads.locator("time").all_inner_texts())
    assert await threads.nth(0).get_attribute("aria-current") == "true"

    await threads.nth(1).locator("button").click()
    await done_turn(page, 1).wait_for()
    assert await page.locator(".turn .question").all_inner_texts() == [
        "resumen del centro de control de hoy",
        "distribución de ETA de hoy",
    ]
    assert await page.evaluate("localStorage.getItem('miot.threadId')") == first_thread
    assert await page.locator(".turn .chart-canvas svg").count() >= 2

    # The current conversation survives closing the tab: a new page in the same context.
    reopened = await page.context.new_page()
    await reopened.goto(server + "/")
    await enter_key(reopened, key)
    await done_turn(reopened, 1).wait_for()
    assert (await reopened.locator(".turn .question").all_inner_texts())[0] == (
        "resumen del centro de control de hoy"
    )
    assert watched.errors == []


async def test_older_conversations_come_a_page_at_a_time(browser, server):
    key = "clave-hugo"
    async with httpx.AsyncClient(base_url=server, timeout=60) as api:
        for number in range(21):
            response = await api.post(
                "/runs",
                json={"message": f"cuántos servicios hay hoy ({number})"},
                headers={"Authorization": f"Bearer {key}"},
            )
            assert response.status_code == 200, response.text
    watched = await open_page(browser, server, LAPTOP)
    page = watched.page
    await page.click("#change-key")
    await enter_key(page, key)
    threads = page.locator("#threads .thread")
    await threads.nth(19).wait_for()
    assert await threads.count() == 20
    assert await threads.nth(0).locator(".thread-question").inner_text() == (
        "cuántos servicios hay hoy (20)"
    )
    await page.click(".more-threads")
    await threads.nth(20).wait_for()
    assert await threads.nth(20).locator(".thread-question").inner_text() == (
        "cuántos servicios hay hoy (0)"
    )
    assert await page.locator(".more-threads").count() == 0
    assert watched.errors == []


async def test_a_clarification_offers_buttons_and_one_completes_the_question(browser, server):
    key = "clave-elena"
    watched = await open_page(browser, server, LAPTOP)
    page = watched.page
    turn = await ask(page, "¿Transportes Pepito tiene servicios atrasados?", key=key)
    assert "status-needs_input" in await turn.get_attribute("class")
    record = await record_of(page, turn, key)
    options = record["artifacts"]["clarification"]["options"]
    buttons = turn.locator(".clarify button")
    assert await buttons.all_inner_texts() == [option["label"] for option in options]
    thread = record["thread_id"]

    await buttons.nth(0).click()
    answer = done_turn(page, 1)
    await answer.wait_for()
    assert await answer.locator(".question").inner_text() == options[0]["message"]
    assert "status-completed" in await answer.get_attribute("class")
    assert (await record_of(page, answer, key))["thread_id"] == thread
    assert await buttons.nth(0).is_disabled()
    assert watched.errors == []


async def test_each_evidence_table_downloads_as_utf8_csv_with_a_byte_order_mark(
    browser, server, tmp_path
):
    key = "clave-franco"
    watched = await open_page(browser, server, LAPTOP)
    page = watched.page
    turn = await ask(page, "cola crítica de hoy en la Región Metropolitana", key=key)
    record = await record_of(page, turn, key)
    rows = record["artifacts"]["evidence"][0]["rows"]
    async with page.expect_download() as download_info:
        await turn.locator(".download-csv").first.click()
    download = await download_info.value
    assert download.suggested_filename == "coordinador_cola_critica.csv"
    path = tmp_path / "cola.csv"
    await download.save_as(path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [line["codigo"] for line in table] == [row["codigo"] for row in rows]
    assert [line["comuna"] for line in table] == [row["comuna"] for row in rows]
    assert list(table[0]) == list(rows[0])  # every column, refresh stamps included
    assert await page.evaluate("window.__cspViolations") == []


async def test_phone_width_has_no_sideways_page_scroll_and_folds_the_trace(
    browser, server, artifacts
):
    key = "clave-gabriela"
    watched = await open_page(browser, server, PHONE)
    page = watched.page
    await ask(page, "resumen del centro de control de hoy", key=key)
    await ask(page, "torre de control por región de hoy")
    await ask(page, "distribución de ETA de hoy")
    for question in ("dimensionamiento por centro de la semana", "rendimiento de transportistas"):
        turn = await ask(page, question)
        assert await turn.locator(".chart-canvas svg").count() == 1, question
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert not await page.locator("#trace-box").get_attribute("open")
    assert not await page.locator("#threads-box").get_attribute("open")
    assert await page.evaluate("window.__cspViolations") == []
    await page.screenshot(path=str(artifacts / "page-phone-charts.png"), full_page=True)
    assert watched.errors == []


def chilean(value: float) -> str:
    """A number as the page writes it: '.' between thousands, ',' before decimals."""
    text = f"{value:,}" if isinstance(value, int) or not value.is_integer() else f"{int(value):,}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


# The ticks ECharts computed for the chart's value axis, and the tooltip it shows for the
# first mark of the first series.
AXIS_AND_TOOLTIP = """(canvas) => {
  const chart = echarts.getInstanceByDom(canvas);
  const axes = ["xAxis", "yAxis"].map((kind) => chart.getModel().getComponent(kind, 0).axis);
  const axis = axes.find((each) => each.type === "value");
  const ticks = axis.scale.getTicks().map((tick) => tick.value);
  chart.dispatchAction({ type: "showTip", seriesIndex: 0, dataIndex: 0 });
  const tooltip = canvas.querySelector("div[style*='z-index']");
  return { ticks, tooltip: tooltip ? tooltip.innerText : null };
}"""


async def test_chart_numbers_read_the_chilean_way(browser, server):
    key = "clave-ines"
    watched = await open_page(browser, server, LAPTOP)
    page = watched.page
    gap = await ask(page, "dimensionamiento por centro de la semana", key=key)
    rows = (await record_of(page, gap, key))["artifacts"]["evidence"][0]["rows"]
    assert min(row["brecha_capacidad"] for row in rows) <= -1000
    canvas = await gap.locator(".chart-canvas").element_handle()
    drawn = await page.evaluate(AXIS_AND_TOOLTIP, canvas)
    texts = (await page.evaluate(RENDERED, canvas))["texts"]
    assert min(drawn["ticks"]) <= -1000
    for tick in drawn["ticks"]:
        assert chilean(tick) in texts, (tick, texts)
    assert not any("," in text for text in texts if text.lstrip("-")[:1].isdigit())

    eta = await ask(page, "distribución de ETA del año")
    first = (await record_of(page, eta, key))["artifacts"]["evidence"][0]["rows"][0]
    assert first["servicios"] >= 1000
    canvas = await eta.locator(".chart-canvas").element_handle()
    drawn = await page.evaluate(AXIS_AND_TOOLTIP, canvas)
    assert chilean(first["servicios"]) in drawn["tooltip"]
    assert f"{first['servicios']:,}" not in drawn["tooltip"]
    assert percent_text(first["pct"]) in drawn["tooltip"]
    assert watched.errors == []


async def test_the_readme_screenshots_show_the_current_page(browser, server):
    """Every run writes docs/page.png and docs/page-phone.png from the same scene."""
    key = "clave-julia"
    watched = await open_page(browser, server, LAPTOP)
    page = watched.page
    await ask(page, "resumen del centro de control de hoy", key=key)
    await page.click("#new-thread")
    turn = await ask(page, "¿qué transportista tuvo el peor cumplimiento?")
    threads = page.locator("#threads .thread")
    await threads.nth(1).wait_for()
    assert await threads.count() == 2
    await turn.locator(".table-fold summary").click()
    assert await turn.locator(".chart-canvas svg").count() == 1
    assert await turn.locator(".evidence tbody tr").count() >= 2
    DOCS.mkdir(exist_ok=True)
    await page.screenshot(path=str(DOCS / "page.png"), full_page=True)

    # The same tab at phone width: the page reopens the current conversation on reload.
    await page.set_viewport_size(PHONE)
    await page.reload()
    turn = page.locator(".turn").nth(0)
    await turn.locator(".chart-canvas svg").wait_for()
    await turn.locator(".table-fold summary").click()
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await page.screenshot(path=str(DOCS / "page-phone.png"), full_page=True)
    assert watched.errors == [] and await page.evaluate("window.__cspViolations") == []
