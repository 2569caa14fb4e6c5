"""`tools lint` on a schema with one function per problem (and clean ones that pass)."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
from nexo_support import zoo_settings
from typer.testing import CliRunner

from miot_harness.cli import app
from miot_harness.nexo.lint import lint_nexo_functions

LINT_SQL = (Path(__file__).parent / "lint_zoo.sql").read_text(encoding="utf-8")
EXPECTED_PROBLEMS = {
    "lintzoo.fn_dx_sin_fin()": [
        "@meta block is not terminated by @end",
        "@meta line 3 is not 'key: value': 'Nunca termina.'",
    ],
    "lintzoo.fn_dx_clave_rara()": ["unknown @meta key 'colour' on line 3"],
    "lintzoo.fn_dx_sin_efectos()": ["@meta block has no side_effects key"],
    "lintzoo.fn_dx_enum_fantasma(p_a text)": [
        "@meta enum.p_b names a parameter the function does not have"
    ],
    "lintzoo.fn_dx_volatil()": [
        "VOLATILE but not denied: mark it STABLE/IMMUTABLE, or declare its side_effects"
    ],
    "lintzoo.fn_dx_sin_comentario()": [
        "no COMMENT ON FUNCTION: the model would see no description"
    ],
    "lintzoo.fn_dx_definer()": [
        "SECURITY DEFINER without its own SET search_path (a caller could shadow objects)"
    ],
    "lintzoo.fn_dx_concatena(p_tabla text)": [
        "EXECUTE of a string built by concatenation; use format() with %I / %L instead"
    ],
    "lintzoo.fn_dx_punto(p_p point)": [
        "cannot become a tool: argument p_p has type point, which has no JSON form"
    ],
}


@pytest.fixture(scope="module")
async def lint_db(pg_server, zoo_db):
    conn = await asyncpg.connect(pg_server.dsn(zoo_db))
    await conn.execute(LINT_SQL)
    yield conn
    await conn.execute("DROP SCHEMA lintzoo CASCADE")
    await conn.close()


async def test_every_problem_gets_one_precise_message(lint_db):
    settings = zoo_settings(nexo_schema="lintzoo", nexo_search_path="lintzoo")
    report = await lint_nexo_functions(lint_db, settings)
    found: dict[str, list[str]] = {}
    for finding in report.problems:
        found.setdefault(finding.signature, []).append(finding.message)
    assert found == EXPECTED_PROBLEMS
    notes = {finding.signature: finding.message for finding in report.notes}
    assert notes["lintzoo.fn_refresh_x()"] == "not a tool: denied by name pattern fn_refresh_*"
    assert notes["lintzoo.helper()"] == "not a tool: not named fn_dx_*"
    assert "writes_to_servicio" in notes["lintzoo.fn_dx_recalcula()"]


def test_the_cli_exits_non_zero_with_one_line_per_problem(pg_server, zoo_db, lint_db):
    env = {
        "MIOT_HARNESS_NEXO_DSN": pg_server.dsn(zoo_db),
        "MIOT_HARNESS_NEXO_SCHEMA": "lintzoo",
        "MIOT_HARNESS_NEXO_SEARCH_PATH": "lintzoo",
    }
    result = CliRunner().invoke(app, ["tools", "lint"], env=env)
    assert result.exit_code == 1
    errors = [line for line in result.stdout.splitlines() if line.startswith("error: ")]
    assert len(errors) == sum(len(m) for m in EXPECTED_PROBLEMS.values())
    assert (
        "error: lintzoo.fn_dx_volatil(): VOLATILE but not denied: mark it STABLE/IMMUTABLE, "
        "or declare its side_effects"
    ) in errors
    assert "note: lintzoo.helper(): not a tool: not named fn_dx_*" in result.stdout
