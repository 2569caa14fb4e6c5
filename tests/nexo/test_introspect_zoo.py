"""Introspection of the function zoo: every supported signature maps, the rest is skipped."""

from __future__ import annotations

import logging
import re

import pytest

from miot_harness.nexo.contract import FILTER_CONTRACT_ARGUMENTS
from miot_harness.nexo.introspect import introspect_nexo_functions
from miot_harness.nexo.primer import SHARED_FILTER_PRIMER
from miot_harness.nexo.tool_factory import build_nexo_tool

INT = {"type": "integer"}
NUM = {"type": "number"}
STR = {"type": "string"}
DATE = {"type": "string", "format": "date"}


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


# tool name → {argument: JSON schema fragment that must be present in the property}
EXPECTED_INPUTS: dict[str, dict[str, dict]] = {
    "coordinador_centro_control": {},
    "coordinador_conteo": {},
    "coordinador_int_in": {"n": INT},
    "coordinador_smallint_in": {"n": INT},
    "coordinador_bigint_in": {"n": INT},
    "coordinador_numeric_in": {"x": NUM},
    "coordinador_float_in": {"x": NUM, "y": NUM},
    "coordinador_bool_in": {"b": {"type": "boolean"}},
    "coordinador_text_in": {"t": STR},
    "coordinador_varchar_in": {"t": STR},
    "coordinador_date_in": {"d": DATE},
    "coordinador_timestamptz_in": {"t": {"type": "string", "format": "date-time"}},
    "coordinador_timestamp_in": {"t": {"type": "string", "format": "date-time"}},
    "coordinador_uuid_in": {"u": {"type": "string", "format": "uuid"}},
    "coordinador_time_interval": {
        "t": {"type": "string", "format": "time"},
        "i": {"type": "string", "format": "duration"},
    },
    "coordinador_int_array": {"ids": {"type": "array", "items": INT}},
    "coordinador_text_array": {"tags": {"type": "array", "items": STR}},
    "coordinador_enum_in": {"color": {"enum": ["rojo", "verde", "azul"]}},
    "coordinador_enum_array": {
        "colores": {"type": "array", "items": {"enum": ["rojo", "verde", "azul"], "type": "string"}}
    },
    "coordinador_domain_text": {"codigo": STR},
    "coordinador_domain_int": {"n": INT},
    "coordinador_enum_meta": {"modo": {"enum": ["rapido", "lento"]}},
    "coordinador_defaults": {
        "a": {**_nullable(INT), "default": 5},
        "b": {**_nullable(STR), "default": "hola, mundo"},
        "c": {**_nullable(DATE), "default": None},
        "d": {**_nullable({"type": "boolean"}), "default": True},
        "e": {**_nullable(DATE), "description": "Por defecto: CURRENT_DATE"},
    },
    "coordinador_out_params": {"n": INT},
    "coordinador_inout": {"n": INT},
    "coordinador_variadic_sum": {"vals": {"type": "array", "items": INT}},
    "coordinador_variadic_text": {"sep": STR, "parts": {"type": "array", "items": STR}},
    "coordinador_tabla": {"desde": _nullable(DATE), "limit": {"default": 50}, "offset": {}},
    "coordinador_setof_tabla": {},
    "coordinador_setof_tipo": {},
    "coordinador_setof_escalar": {},
    "coordinador_setof_json": {},
    "coordinador_composite_out": {},
    "coordinador_json_out": {},
    "coordinador_jsonb_out": {},
    "coordinador_jsonb_in": {"filtro": {}},
    "coordinador_sobrecarga__integer": {"x": INT},
    "coordinador_sobrecarga__text": {"x": STR},
    "coordinador_sobrecarga__noargs": {},
    "coordinador_mitad_privada__integer": {"x": INT},
    "coordinador_mitad_privada__text": {"x": STR},
    "coordinador_filtros": {
        **{name: {} for name in FILTER_CONTRACT_ARGUMENTS},
        "fecha_tipo": {
            "anyOf": [
                {"enum": ["creacion", "compromiso", "entrega", "eta"], "type": "string"},
                {"type": "null"},
            ],
            "default": "compromiso",
        },
        "eta_clasificacion": {
            "anyOf": [
                {"enum": ["a_tiempo", "en_riesgo", "atrasado", "sin_eta"], "type": "string"},
                {"type": "null"},
            ],
            "default": None,
        },
        "canal": {
            "anyOf": [
                {"enum": ["ecommerce", "retail", "marketplace"], "type": "string"},
                {"type": "null"},
            ]
        },
        "limit": {
            "anyOf": [{"type": "integer", "minimum": 1, "maximum": 500}, {"type": "null"}],
            "default": 50,
        },
        "offset": {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}], "default": 0},
    },
    "coordinador_escribe_marca": {"valor": STR},
    "coordinador_lento": {"segundos": NUM},
    "coordinador_falla": {},
    "coordinador_probe_viejo": {},
    "coordinador_privado": {},
}
EXPECTED_RETURN_KINDS = {
    "coordinador_centro_control": "json",
    "coordinador_conteo": "scalar",
    "coordinador_out_params": "table",
    "coordinador_inout": "table",
    "coordinador_tabla": "table",
    "coordinador_setof_tabla": "table",
    "coordinador_setof_tipo": "table",
    "coordinador_setof_escalar": "table",
    "coordinador_setof_json": "table",
    "coordinador_composite_out": "table",
    "coordinador_jsonb_out": "json",
    "coordinador_date_in": "scalar",
}
UNMAPPABLE = {
    "fn_dx_unmappable_point": "type point",
    "fn_dx_unmappable_bytea": "returns bytea",
    "fn_dx_unmappable_record": "without a column list",
    "fn_dx_unmappable_any": "type anyelement",
    "fn_dx_unmappable_sin_nombre": "argument 1 has no name",
    "fn_dx_unmappable_void": "returns void",
    "fn_dx_unmappable_composite_in": "type par",
    "fn_dx_unmappable_columna": "column punto has type point",
}


@pytest.fixture(scope="module")
async def zoo(owner_pool, settings):
    return await introspect_nexo_functions(owner_pool, settings)


@pytest.fixture(scope="module")
def zoo_tools(zoo, owner_pool, settings):
    return {d.tool_name: build_nexo_tool(d, owner_pool, settings) for d in zoo.descriptors}


def test_zoo_has_at_least_forty_functions(zoo):
    assert len(zoo.descriptors) + len(zoo.skipped) >= 40


def test_every_supported_signature_becomes_the_expected_tool(zoo_tools):
    long_name = [name for name in zoo_tools if name.startswith("coordinador_nombre_muy_largo")]
    assert set(zoo_tools) - set(long_name) == set(EXPECTED_INPUTS)
    for name, expected in EXPECTED_INPUTS.items():
        schema = zoo_tools[name].input_model.model_json_schema()
        assert set(schema.get("properties", {})) == set(expected), name
        for argument, fragment in expected.items():
            prop = schema["properties"][argument]
            for key, value in fragment.items():
                assert prop.get(key) == value, (name, argument, key, prop)


def test_input_models_reject_unknown_arguments(zoo_tools):
    schema = zoo_tools["coordinador_int_in"].input_model.model_json_schema()
    assert schema["required"] == ["n"]
    assert schema["additionalProperties"] is False


def test_return_kinds(zoo):
    kinds = {d.tool_name: d.return_kind for d in zoo.descriptors}
    for name, kind in EXPECTED_RETURN_KINDS.items():
        assert kinds[name] == kind, name
    columns = {d.tool_name: [c.name for c in d.columns] for d in zoo.descriptors}
    assert columns["coordinador_inout"] == ["p_n", "p_m"]
    assert columns["coordinador_setof_tipo"] == ["a", "b"]
    assert columns["coordinador_setof_escalar"] == ["fn_dx_setof_escalar"]


def test_unmappable_signatures_are_skipped_with_their_reason(zoo):
    skipped = {s.signature.split("(")[0].removeprefix("zoo."): s for s in zoo.skipped}
    for function, reason in UNMAPPABLE.items():
        assert skipped[function].kind == "unmappable", function
        assert reason in skipped[function].reason, (function, skipped[function].reason)


def test_out_of_scope_and_denied_functions_are_reported(zoo):
    kinds = {s.signature.split("(")[0].removeprefix("zoo."): s.kind for s in zoo.skipped}
    assert kinds["helper_interno"] == "out_of_scope"
    assert kinds["fn_dx_procedimiento"] == "out_of_scope"
    assert kinds["fn_refresh_items"] == "denied"


async def test_introspection_logs_a_warning_naming_each_unmappable_function(
    owner_pool, settings, caplog
):
    with caplog.at_level(logging.WARNING, logger="miot_harness.nexo.introspect"):
        await introspect_nexo_functions(owner_pool, settings)
    warned = "\n".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    for function in UNMAPPABLE:
        assert f"zoo.{function}(" in warned


async def test_the_reader_role_sees_only_what_it_may_execute(reader_pool, settings):
    result = await introspect_nexo_functions(reader_pool, settings)
    names = {d.tool_name for d in result.descriptors}
    assert "coordinador_privado" not in names and "coordinador_int_in" in names
    reasons = {s.signature: s.kind for s in result.skipped}
    assert reasons["zoo.fn_dx_privado()"] == "not_executable"
    assert reasons["zoo.fn_dx_mitad_privada(p_x text)"] == "not_executable"
    # The overload keeps its suffixed name even when its sibling is not executable.
    assert "coordinador_mitad_privada__integer" in names
    assert "coordinador_mitad_privada" not in names


def test_overloads_and_long_names_are_deterministic_and_valid(zoo):
    long_names = [d.tool_name for d in zoo.descriptors if "muy_largo" in d.tool_name]
    assert len(long_names) == 1 and len(long_names[0]) == 64
    assert re.fullmatch(r"coordinador_nombre_muy_largo\w+_[0-9a-f]{6}", long_names[0])
    for descriptor in zoo.descriptors:
        assert re.fullmatch(r"[a-z0-9_]{1,64}", descriptor.tool_name)


def test_descriptions_render_each_comment_format(zoo_tools):
    assert zoo_tools["coordinador_centro_control"].description == (
        "[L2] Resumen de KPIs.\nDomain: centro_control\nReturns: json\nKeywords: resumen, kpi"
    )
    assert zoo_tools["coordinador_conteo"].description == "[L1] Conteo de items."
    assert zoo_tools["coordinador_escribe_marca"].description == (
        "Registra una marca (escribe, sin side_effects declarado)."
    )
    assert zoo_tools["coordinador_int_in"].description == "Función zoo.fn_dx_int_in."
    filtros = zoo_tools["coordinador_filtros"].description
    assert filtros.startswith("[L2] Devuelve los filtros recibidos.\nDomain: pruebas\n")
    assert filtros.endswith("\n\n" + SHARED_FILTER_PRIMER)
    assert SHARED_FILTER_PRIMER not in zoo_tools["coordinador_tabla"].description
