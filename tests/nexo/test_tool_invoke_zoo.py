"""Zoo tools through `invoke`: events, truncation, validation, defaults, errors, injection."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import asyncpg
import pytest
from nexo_support import ZOO_READER, ZOO_READER_PASSWORD, zoo_settings

from miot_harness.events import HarnessEventType
from miot_harness.nexo.introspect import introspect_nexo_functions
from miot_harness.nexo.pool import create_nexo_pool
from miot_harness.nexo.tool_factory import build_nexo_tool
from miot_harness.schemas import RunContext
from miot_harness.tools import ToolError

CTX = RunContext(run_id="r1", thread_id="t1", tenant_id="mintral", user_id="u1")


@pytest.fixture(scope="module")
async def descriptors(owner_pool, settings):
    result = await introspect_nexo_functions(owner_pool, settings)
    return {d.tool_name: d for d in result.descriptors}


@pytest.fixture(scope="module")
def owner_tools(descriptors, owner_pool, settings):
    return {name: build_nexo_tool(d, owner_pool, settings) for name, d in descriptors.items()}


@pytest.fixture(scope="module")
def reader_tools(descriptors, reader_pool, settings):
    return {name: build_nexo_tool(d, reader_pool, settings) for name, d in descriptors.items()}


async def _invoke(tool, args):
    events = []
    result = await tool.invoke(args, CTX, events.append)
    return result, events


async def _failure(tool, args, ctx=CTX):
    events = []
    with pytest.raises(ToolError) as caught:
        await tool.invoke(args, ctx, events.append)
    assert [e.type for e in events] == [HarnessEventType.TOOL_STARTED, HarnessEventType.TOOL_FAILED]
    assert events[1].payload["error_type"] == caught.value.error_type
    return caught.value


async def test_twelve_rows_come_back_as_five_total_twelve_truncated(reader_tools):
    result, events = await _invoke(reader_tools["coordinador_tabla"], {})
    assert [e.type for e in events] == [
        HarnessEventType.TOOL_STARTED,
        HarnessEventType.TOOL_COMPLETED,
    ]
    completed = events[1].payload
    assert completed["tool"] == "coordinador_tabla"
    assert completed["source"] == "zoo.fn_dx_tabla"
    assert completed["layer"] == "L2" and completed["domain"] is None
    assert completed["truncated"] is True and completed["row_count"] == 12
    assert completed["refreshed_at"] is not None and completed["duration_ms"] > 0
    output = result.output.model_dump()
    assert len(output["rows"]) == 5 and output["total_count"] == 12 and output["truncated"]
    assert [row["id"] for row in output["rows"]] == [1, 2, 3, 4, 5]
    assert "total_count" not in output["rows"][0]
    assert len(result.returned_rows) == 12
    assert result.returned_rows[11] == {
        "id": 12,
        "nombre": "item 12",
        "creado": "2026-11-13",
        "precio": 18.0,
        "refreshed_at_servicios": result.returned_rows[11]["refreshed_at_servicios"],
    }


async def test_total_count_comes_from_the_column_not_the_page(reader_tools):
    result, _ = await _invoke(reader_tools["coordinador_tabla"], {"limit": 3, "offset": 2})
    assert result.output.total_count == 12 and result.row_count == 3
    assert [row["id"] for row in result.output.rows] == [3, 4, 5]
    assert result.metadata.truncated is True
    small, _ = await _invoke(reader_tools["coordinador_tabla"], {"desde": "2026-11-10"})
    assert small.output.total_count == 4 and small.output.truncated is False


@pytest.mark.parametrize(
    ("tool", "args", "message"),
    [
        ("coordinador_tabla", {"limit": "cinco"}, "limit"),
        ("coordinador_tabla", {"limit": 501}, "less than or equal to 500"),
        ("coordinador_tabla", {"offset": -1}, "offset"),
        ("coordinador_tabla", {"desde": "ayer"}, "desde"),
        ("coordinador_filtros", {"fecha_tipo": "ayer"}, "fecha_tipo"),
        ("coordinador_filtros", {"eta_clasificacion": "tarde"}, "eta_clasificacion"),
        ("coordinador_filtros", {"canal": "tienda"}, "canal"),
        ("coordinador_filtros", {"tenant": "otra"}, "tenant"),
        ("coordinador_enum_in", {"color": "morado"}, "color"),
        ("coordinador_int_in", {}, "n: Field required"),
    ],
)
async def test_invalid_arguments_fail_validation_without_reaching_the_database(
    descriptors, settings, tool, args, message
):
    unusable_pool = None  # any database access would fail with another error type
    error = await _failure(build_nexo_tool(descriptors[tool], unusable_pool, settings), args)
    assert error.error_type == "validation"
    assert message in error.message


async def test_only_given_arguments_are_bound_and_sql_defaults_apply(reader_tools):
    tool = reader_tools["coordinador_defaults"]
    result, _ = await _invoke(tool, {})
    assert result.output.data == {
        "a": 5,
        "b": "hola, mundo",
        "c": None,
        "d": True,
        "e_es_hoy": True,
    }
    result, _ = await _invoke(tool, {"a": 7, "b": None, "c": "2026-11-20"})
    assert result.output.data["a"] == 7 and result.output.data["b"] == "hola, mundo"
    assert result.output.data["c"] == "2026-11-20"
    args = tool.input_model.model_validate({"d": False})
    assert tool.statement(tool.bound_arguments(args)) == (
        'SELECT "zoo"."fn_dx_defaults"("p_d" => $1::boolean)'
    )


@pytest.mark.parametrize(
    ("tool", "args", "expected"),
    [
        ("coordinador_int_in", {"n": 21}, 42),
        ("coordinador_smallint_in", {"n": "4"}, 5),
        ("coordinador_bigint_in", {"n": 2**40}, 2**40 + 1),
        ("coordinador_numeric_in", {"x": 1.25}, 2.5),
        ("coordinador_float_in", {"x": 1.5, "y": 2}, 3.5),
        ("coordinador_bool_in", {"b": True}, False),
        ("coordinador_varchar_in", {"t": "abc"}, "ABC"),
        ("coordinador_date_in", {"d": "2026-11-24"}, dt.date(2026, 11, 25)),
        ("coordinador_uuid_in", {"u": str(uuid.UUID(int=7))}, str(uuid.UUID(int=7))),
        ("coordinador_time_interval", {"t": "10:00:00", "i": "PT90M"}, "11:30:00"),
        ("coordinador_int_array", {"ids": [1, 2, 3]}, 6),
        ("coordinador_text_array", {"tags": ["a", "b"]}, "a+b"),
        ("coordinador_enum_in", {"color": "verde"}, "verde"),
        ("coordinador_enum_array", {"colores": ["rojo", "azul"]}, 2),
        ("coordinador_enum_meta", {"modo": "lento"}, "lento"),
        ("coordinador_domain_text", {"codigo": "SV-0000001"}, "SV-0000001"),
        ("coordinador_domain_int", {"n": 3}, 3),
        ("coordinador_variadic_sum", {"vals": [4, 5]}, 9),
        ("coordinador_variadic_text", {"sep": "-", "parts": ["x", "y"]}, "x-y"),
        ("coordinador_sobrecarga__integer", {"x": 1}, "integer"),
        ("coordinador_sobrecarga__text", {"x": "1"}, "text"),
        ("coordinador_sobrecarga__noargs", {}, "noargs"),
    ],
)
async def test_every_scalar_signature_kind_round_trips(reader_tools, tool, args, expected):
    result, _ = await _invoke(reader_tools[tool], args)
    assert result.output.value == expected
    assert result.row_count == 1


async def test_table_shapes_out_inout_composite_setof(reader_tools):
    outs, _ = await _invoke(reader_tools["coordinador_out_params"], {"n": 2})
    assert outs.returned_rows == [{"doble": 4, "triple": 6}]
    inout, _ = await _invoke(reader_tools["coordinador_inout"], {"n": 1})
    assert inout.returned_rows == [{"p_n": 2, "p_m": 3}]
    pair, _ = await _invoke(reader_tools["coordinador_composite_out"], {})
    assert pair.returned_rows == [{"a": 7, "b": "siete"}]
    series, _ = await _invoke(reader_tools["coordinador_setof_escalar"], {})
    assert series.returned_rows == [{"fn_dx_setof_escalar": n} for n in (1, 2, 3)]
    documents, _ = await _invoke(reader_tools["coordinador_setof_json"], {})
    assert documents.returned_rows == [{"fn_dx_setof_json": {"k": 1}}]
    echoed, _ = await _invoke(reader_tools["coordinador_jsonb_in"], {"filtro": {"a": [1]}})
    assert echoed.output.data == {"a": [1]}


async def test_refreshed_at_is_the_oldest_stamp_or_the_probe(reader_tools, reader_pool):
    jsonb, _ = await _invoke(reader_tools["coordinador_jsonb_out"], {})
    age = dt.datetime.now(dt.UTC) - jsonb.metadata.refreshed_at
    assert dt.timedelta(minutes=8) < age < dt.timedelta(minutes=10)
    scalar, events = await _invoke(reader_tools["coordinador_conteo"], {})
    snapshot = await reader_pool.fetchval("SELECT refreshed_at_servicios FROM zoo.snapshot")
    assert scalar.output.value == 12 and scalar.metadata.refreshed_at == snapshot
    assert events[1].payload["refreshed_at"] == snapshot.isoformat()
    assert scalar.output.layer == "L1" and scalar.output.source == "zoo.fn_dx_conteo"


async def test_statement_timeout_becomes_a_timeout_error(descriptors, owner_pool):
    fast = zoo_settings(nexo_statement_timeout_ms=100)
    tool = build_nexo_tool(descriptors["coordinador_lento"], owner_pool, fast)
    error = await _failure(tool, {"segundos": 2})
    assert error.error_type == "timeout" and "100 ms" in error.message


async def test_connection_loss_is_database_unavailable_without_secrets(
    pg_server, zoo_db, descriptors, settings
):
    dsn = pg_server.dsn(zoo_db, ZOO_READER, ZOO_READER_PASSWORD)
    pool = await create_nexo_pool(dsn, settings)
    tool = build_nexo_tool(descriptors["coordinador_conteo"], pool, settings)
    await pool.close()
    error = await _failure(tool, {})
    assert error.error_type == "database_unavailable"
    assert ZOO_READER_PASSWORD not in error.message and "postgresql://" not in error.message


async def test_a_server_error_is_reported_with_its_sqlstate(reader_tools):
    error = await _failure(reader_tools["coordinador_falla"], {})
    assert error.error_type == "database_error" and "falla a propósito" in error.message
    error = await _failure(reader_tools["coordinador_domain_text"], {"codigo": "nope"})
    assert error.error_type == "database_error" and error.message.startswith("23514")


async def test_another_tenant_is_refused_before_the_database(descriptors, settings):
    tool = build_nexo_tool(descriptors["coordinador_conteo"], None, settings)
    other = CTX.model_copy(update={"tenant_id": "otra"})
    error = await _failure(tool, {}, ctx=other)
    assert error.error_type == "permission"


async def test_a_writing_function_not_denied_fails_inside_read_only_even_for_the_owner(
    owner_tools, owner_pool
):
    error = await _failure(owner_tools["coordinador_escribe_marca"], {"valor": "x"})
    assert error.error_type == "read_only_violation"
    assert "read-only transaction" in error.message
    assert await owner_pool.fetchval("SELECT count(*) FROM zoo.marca") == 0


@pytest.mark.parametrize(
    "hostile", ["'; DROP TABLE zoo.item; --", "zoo'; SET ROLE postgres", "$1); SELECT 1; --"]
)
async def test_injection_strings_are_inert_data(reader_tools, reader_pool, hostile):
    result, _ = await _invoke(reader_tools["coordinador_text_in"], {"t": hostile})
    assert result.output.value == hostile
    filtered, _ = await _invoke(reader_tools["coordinador_filtros"], {"region": hostile})
    assert {"filtro": "region", "valor": hostile} in [
        {k: r[k] for k in ("filtro", "valor")} for r in filtered.returned_rows
    ]
    assert await reader_pool.fetchval("SELECT count(*) FROM zoo.item") == 12
    assert await reader_pool.fetchval("SELECT current_user") == ZOO_READER


async def test_the_reader_role_cannot_write_even_outside_read_only(reader_pool):
    async with reader_pool.acquire() as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("INSERT INTO zoo.marca (valor) VALUES ('x')")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("SELECT zoo.fn_refresh_items()")


async def test_a_backend_killed_mid_query_fails_cleanly_and_the_pool_recovers(
    pg_server, zoo_db, descriptors, settings, owner_pool
):
    dsn = pg_server.dsn(zoo_db, ZOO_READER, ZOO_READER_PASSWORD)
    pool = await create_nexo_pool(dsn, settings, min_size=1, max_size=1)
    try:
        slow = build_nexo_tool(descriptors["coordinador_lento"], pool, settings)
        events = []
        call = asyncio.create_task(slow.invoke({"segundos": 30}, CTX, events.append))
        backend = None
        for _ in range(500):
            await asyncio.sleep(0.02)
            backend = await owner_pool.fetchval(
                "SELECT pid FROM pg_stat_activity WHERE query LIKE '%fn_dx_lento%' "
                "AND pid <> pg_backend_pid()"
            )
            if backend is not None:
                break
        assert backend is not None, "the slow call never reached the server"
        assert await owner_pool.fetchval("SELECT pg_terminate_backend($1)", backend)
        with pytest.raises(ToolError) as caught:
            await call
        assert caught.value.error_type == "database_unavailable"
        assert events[-1].payload["error_type"] == "database_unavailable"
        assert ZOO_READER_PASSWORD not in caught.value.message
        tool = build_nexo_tool(descriptors["coordinador_conteo"], pool, settings)
        result, _ = await _invoke(tool, {})
        assert result.output.value == 12
    finally:
        await pool.close()


async def test_each_call_commits_before_its_connection_serves_the_next(
    pg_server, zoo_db, descriptors, settings
):
    """The COMMIT runs after the call returns; the pool must never get a connection back
    still in a transaction (asyncpg would report it through the loop's exception handler)."""
    reported = []
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reported.append(context["message"]))
    dsn = pg_server.dsn(zoo_db, ZOO_READER, ZOO_READER_PASSWORD)
    pool = await create_nexo_pool(dsn, settings, min_size=1, max_size=1)
    try:
        tool = build_nexo_tool(descriptors["coordinador_tabla"], pool, settings)
        for _ in range(5):  # one connection: each call waits for the previous one's release
            result, _ = await _invoke(tool, {})
            assert result.output.total_count == 12
        async with pool.acquire() as conn:
            assert not conn.is_in_transaction()
    finally:
        await pool.close()
        loop.set_exception_handler(previous)
    assert reported == []
