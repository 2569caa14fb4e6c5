"""Superlatives over every row, on the demo database: for each ranking tool the test finds
the answer itself from ALL rows of a direct call of the function, then checks that the
answer's prose (before any table) names that item, every tie, and its value — with the
offline model, and with a scripted provider model through the local stub, which reads only
the sorted top rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from harness_support import ask, demo_runtime
from miot_harness.evals.numbers import answer_numbers, evidence_numbers, is_supported
from miot_harness.models.seat_protocol import read_json_section
from miot_harness.runtime import HarnessRuntime
from miot_harness.schemas import HarnessRunRecord, RunStatus
from miot_harness.wording import value_text, value_words
from provider_stub import ANTHROPIC_PATH, ProviderStub, anthropic_message

ZONE = ZoneInfo("America/Santiago")
TABLE_START = "\n\n**"  # the harness's tables follow the prose under a bold title
READY = '{"verdict": "ready", "reason": "basta"}'


@dataclass(frozen=True)
class Ranking:
    question: str
    tool: str
    column: str
    direction: str
    names: tuple[str, ...]  # the columns that name a row, finest first


RANKINGS = [
    Ranking("¿Cuál es la comuna con más servicios atrasados hoy?", "coordinador_torre_control",
            "atrasado", "desc", ("comuna",)),
    Ranking("¿Qué transportista tuvo el peor cumplimiento en los últimos 30 días?",
            "coordinador_rendimiento_transportista", "pct_a_tiempo", "asc", ("transportista",)),
    Ranking("¿Qué centro tiene la mayor brecha de capacidad esta semana?",
            "coordinador_dimensionamiento", "brecha_capacidad", "desc",
            ("centro", "transportista")),
    Ranking("¿Qué servicio de la cola crítica tiene más intentos?", "coordinador_cola_critica",
            "intentos", "desc", ("codigo",)),
    Ranking("¿Qué clasificación de ETA tiene más servicios hoy?",
            "coordinador_eta_distribucion", "servicios", "desc", ("eta_clasificacion",)),
]  # fmt: skip
IDS = [r.tool.removeprefix("coordinador_") for r in RANKINGS]
NAMED_TIES = 10


@pytest.fixture(scope="module")
async def offline_runtime(demo_db, tmp_path_factory) -> AsyncIterator[HarnessRuntime]:
    async with demo_runtime(demo_db, tmp_path_factory.mktemp("ranking")) as booted:
        yield booted


async def all_rows(dsn: str, tool: str, args: dict[str, Any]) -> list[dict[str, Any]]:
    """Every row of the function for the plan's filters, read directly (no harness)."""
    function = "fn_dx_" + tool.removeprefix("coordinador_")
    given = {k: v for k, v in args.items() if k not in ("limit", "offset")}
    values = [date.fromisoformat(v) if k.startswith("fecha_d") or k == "fecha_hasta" else v
              for k, v in given.items()]  # fmt: skip
    named = ", ".join(f"p_{key} => ${n}" for n, key in enumerate(given, start=1))
    sql = f"SELECT * FROM nexo.{function}({named}{', ' if named else ''}p_limit => 100000)"
    conn = await asyncpg.connect(dsn)
    try:
        return [dict(record) for record in await conn.fetch(sql, *values)]
    finally:
        await conn.close()


def superlative(rows: list[dict[str, Any]], ranking: Ranking) -> list[dict[str, Any]]:
    """The best row by the ranking's column and every row tied with it (nulls never win)."""
    present = [row for row in rows if row[ranking.column] is not None]
    pick = max if ranking.direction == "desc" else min
    best = pick(row[ranking.column] for row in present)
    return [row for row in present if row[ranking.column] == best]


def prose(answer: str) -> str:
    return answer.split(TABLE_START, 1)[0]


def shown(value: Any, column: str) -> str:
    number = float(value) if not isinstance(value, int) else value
    return value_text(number, column) or str(value)


def check_prose_names_the_superlative(
    record: HarnessRunRecord, ranking: Ranking, rows: list[dict[str, Any]]
) -> None:
    text = prose(record.answer)
    winners = superlative(rows, ranking)
    named = winners if len(winners) <= NAMED_TIES else winners[:NAMED_TIES]
    for row in named:
        name = value_words(str(row[ranking.names[0]]))
        assert f"**{name}**" in text, (name, text)
    assert shown(winners[0][ranking.column], ranking.column) in text, text
    if len(winners) > NAMED_TIES:
        assert f"{len(winners)} empatados" in text, text
    assert "|" not in text  # the sentence comes before any table


async def check_offline_ranking(
    runtime: HarnessRuntime, dsn: str, ranking: Ranking
) -> tuple[HarnessRunRecord, dict[str, Any], list[dict[str, Any]]]:
    """Ask the ranking offline: one step, its tool ordered by its column, the prose naming the
    superlative over every row; returns the record, the step and those rows."""
    record = await ask(runtime, ranking.question)

    assert record.status is RunStatus.COMPLETED, record.answer
    [step] = record.artifacts["nexo_plan"]["steps"]
    assert step["tool"] == ranking.tool
    assert step["order_by"] == {"column": ranking.column, "direction": ranking.direction}
    rows = await all_rows(dsn, ranking.tool, step["args"])
    check_prose_names_the_superlative(record, ranking, rows)
    return record, step, rows


@pytest.mark.parametrize("ranking", RANKINGS, ids=IDS)
async def test_the_offline_model_names_the_superlative_over_every_row(
    offline_runtime: HarnessRuntime, demo_db, ranking: Ranking
):
    record, step, rows = await check_offline_ranking(offline_runtime, demo_db.harness_dsn, ranking)
    [evidence] = record.artifacts["evidence"]
    assert evidence["order_by"] == step["order_by"]
    assert evidence["ranked_rows"] == len(rows) == evidence["total_count"]
    # A person sees the whole ranking, in its order; every number is an evidence value.
    assert record.answer.count("\n| ") == len(rows) + 2  # header, rule, every row
    known = list(evidence_numbers(record.artifacts["evidence"], ZONE))
    known += [float(n) for n in range(61)]  # refresh clock and age
    unsupported = [n.text for n in answer_numbers(record.answer) if not is_supported(n, known)]
    assert unsupported == []


@pytest.fixture(scope="module")
def stub() -> Any:
    with ProviderStub() as running:
        yield running


@pytest.fixture(scope="module")
async def provider_runtime(demo_db, stub, tmp_path_factory) -> AsyncIterator[HarnessRuntime]:
    async with demo_runtime(
        demo_db,
        tmp_path_factory.mktemp("ranking-provider"),
        model="claude-test-model",
        anthropic_api_key="test-key",
        anthropic_base_url=stub.base_url,
        _env_file=None,
    ) as booted:
        yield booted


@pytest.mark.usefixtures("no_provider_environment")
@pytest.mark.parametrize("ranking", RANKINGS, ids=IDS)
async def test_a_provider_model_reads_the_sorted_top_rows_and_names_the_superlative(
    provider_runtime: HarnessRuntime, offline_runtime: HarnessRuntime, stub, demo_db, ranking
):
    # The plan the offline model made for the same question gives the filters to script.
    planned = await ask(offline_runtime, ranking.question)
    args = planned.artifacts["nexo_plan"]["steps"][0]["args"]
    rows = await all_rows(demo_db.harness_dsn, ranking.tool, args)
    tied = superlative(rows, ranking)
    winners = tied[:NAMED_TIES]
    value = shown(winners[0][ranking.column], ranking.column)
    names = ", ".join(f"**{value_words(str(r[ranking.names[0]]))}**" for r in winners)
    if len(tied) > NAMED_TIES:
        names += f" ({len(tied)} empatados)"
    order = {"column": ranking.column, "direction": ranking.direction}
    before = len(stub.requests)
    stub.enqueue(
        anthropic_message(text="Ranking.", tool=(ranking.tool, {**args, "order_by": order})),
        anthropic_message(text=READY),
        anthropic_message(text=f"El primero es {names} con {value}. Datos al día."),
    )

    record = await ask(provider_runtime, ranking.question)

    assert record.status is RunStatus.COMPLETED, record.answer
    assert record.artifacts["nexo_plan"]["steps"][0]["order_by"] == order
    planner, _, writer = [r.body for r in stub.requests[before:] if r.path == ANTHROPIC_PATH]
    tool = next(t for t in planner["tools"] if t["name"] == ranking.tool)
    assert ranking.column in tool["input_schema"]["properties"]["order_by"]["properties"][
        "column"]["enum"]  # fmt: skip
    [evidence] = read_json_section(writer["system"][1]["text"], "Evidencia")
    seen = evidence["output"]["rows"]
    # The model read the top rows by the order (and the ties), never the function's order.
    assert 1 <= len(seen) <= max(5, NAMED_TIES)
    assert [row[ranking.column] for row in seen] == sorted(
        (row[ranking.column] for row in seen), reverse=ranking.direction == "desc"
    )
    assert {str(r[ranking.names[0]]) for r in winners} <= {str(r[ranking.names[0]]) for r in seen}
    check_prose_names_the_superlative(record, ranking, rows)


# Rankings in an operator's other words: a "¿en qué … hay más?" that a reference list also
# fits, and a verb ("cumple") for the measure its column's noun names ("cumplimiento").
OTHER_WORDS = [
    Ranking("¿En qué comuna hay más servicios en riesgo hoy?", "coordinador_torre_control",
            "en_riesgo", "desc", ("comuna",)),
    Ranking("¿Cuál es el transportista que menos cumple en los últimos 30 días?",
            "coordinador_rendimiento_transportista", "pct_a_tiempo", "asc", ("transportista",)),
]  # fmt: skip


@pytest.mark.parametrize("ranking", OTHER_WORDS, ids=["en-que-comuna-hay-mas", "menos-cumple"])
async def test_a_ranking_in_other_words_is_ordered_and_names_the_superlative(
    offline_runtime: HarnessRuntime, demo_db, ranking: Ranking
):
    await check_offline_ranking(offline_runtime, demo_db.harness_dsn, ranking)


async def test_a_ranking_asked_by_region_names_the_comunas_and_says_it_did_not_total_regions(
    offline_runtime: HarnessRuntime, demo_db
):
    ranking = Ranking("¿Qué región tiene el menor porcentaje a tiempo hoy?",
                      "coordinador_torre_control", "pct_a_tiempo", "asc", ("comuna",))  # fmt: skip
    record = await ask(offline_runtime, ranking.question)

    [step] = record.artifacts["nexo_plan"]["steps"]
    assert (step["tool"], step["order_by"]) == (ranking.tool, {"column": "pct_a_tiempo",
                                                               "direction": "asc"})  # fmt: skip
    rows = await all_rows(demo_db.harness_dsn, ranking.tool, step["args"])
    # The function returns one row per comuna; a region's own rate is a sum of its comunas'
    # counts, which no row holds, so the answer names the comunas and says so.
    assert len({row["comuna"] for row in rows}) == len(rows) > len({row["region"] for row in rows})
    check_prose_names_the_superlative(record, ranking, rows)
    text = prose(record.answer)
    only_regions = {row["region"] for row in rows} - {row["comuna"] for row in rows}
    assert not [r for r in only_regions if f"**{r}**" in text], text
    last = text.split("\n\n", 1)[0].rsplit(". ", 1)[-1].lower()
    assert "región" in last and "comuna" in last, text


async def test_the_kpi_headline_opens_with_total_rate_atrasados_and_en_riesgo(
    offline_runtime: HarnessRuntime,
):
    record = await ask(offline_runtime, "¿Cómo van los KPI de hoy?")

    [evidence] = record.artifacts["evidence"]
    assert evidence["tool"] == "coordinador_centro_control"
    data = evidence["output"]["data"]
    first = record.answer.split("\n\n", 1)[0]
    for key in ("total_servicios", "n_atrasados", "n_eta_riesgo"):
        assert f"**{shown(data[key], key)}**" in first, (key, first)
    rate = data["tasa_cumplimiento_pct"]
    assert (f"**{shown(rate, 'pct')}**" if rate is not None else "sin dato") in first, first


async def count(dsn: str, **args: Any) -> int:
    """`fn_dx_conteo_servicios` called directly with these filters."""
    named = ", ".join(f"p_{key} => ${n}" for n, key in enumerate(args, start=1))
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval(f"SELECT nexo.fn_dx_conteo_servicios({named})",
                                       *args.values()))  # fmt: skip
    finally:
        await conn.close()


async def test_a_count_of_yesterday_is_in_the_past_tense_and_one_servicio_is_singular(
    offline_runtime: HarnessRuntime, demo_db
):
    yesterday = date.fromisoformat(
        (await ask(offline_runtime, "¿Cuántos servicios fallidos hubo ayer?")).artifacts[
            "nexo_plan"]["steps"][0]["args"]["fecha_desde"]
    )  # fmt: skip
    day = {"fecha_desde": yesterday, "fecha_hasta": yesterday}
    rows = await all_rows(demo_db.harness_dsn, "coordinador_torre_control", {})
    found = [
        (estado, comuna, await count(demo_db.harness_dsn, **day, estado=estado, comuna=comuna))
        for estado in ("fallido", "cancelado", "entregado")
        for comuna in sorted({row["comuna"] for row in rows})
    ]
    estado, comuna, _ = next(item for item in found if item[2] == 1)

    single = await ask(offline_runtime, f"¿Cuántos servicios {estado}s hubo ayer en {comuna}?")
    several = await ask(offline_runtime, "¿Cuántos servicios entregados hubo ayer?")

    args = several.artifacts["nexo_plan"]["steps"][0]["args"]
    typed = {k: date.fromisoformat(v) if k.startswith("fecha_") and k != "fecha_tipo" else v
             for k, v in args.items()}  # fmt: skip
    delivered = await count(demo_db.harness_dsn, **typed)
    assert delivered > 1

    first = single.answer.split("\n\n", 1)[0]
    assert first.startswith(f"Ayer hubo **1** servicio {estado} ") and comuna in first, first
    first = several.answer.split("\n\n", 1)[0]
    assert first.startswith(f"Ayer hubo **{shown(delivered, '')}** servicios entregados"), first


async def test_a_most_over_values_all_below_zero_names_the_highest_without_a_deficit(
    offline_runtime: HarnessRuntime, demo_db
):
    ranking = Ranking("¿Qué centro tiene más brecha de capacidad hoy?",
                      "coordinador_dimensionamiento", "brecha_capacidad", "desc",
                      ("centro", "transportista"))  # fmt: skip
    record = await ask(offline_runtime, ranking.question)

    [step] = record.artifacts["nexo_plan"]["steps"]
    assert step["order_by"] == {"column": ranking.column, "direction": ranking.direction}
    rows = await all_rows(demo_db.harness_dsn, ranking.tool, step["args"])
    top = superlative(rows, ranking)[0]
    text = prose(record.answer)
    assert all(row[ranking.column] < 0 for row in rows)  # no centre lacks drivers today
    assert "más brecha" not in text and "mayor brecha" not in text, text
    assert "cero" in text and shown(top[ranking.column], ranking.column) in text, text
    assert all(str(top[name]) in text for name in ranking.names), text
