"""`miot-harness tools list | show | lint` against the zoo (in-process CLI runner)."""

from __future__ import annotations

import json

import pytest
from nexo_support import ZOO_READER, ZOO_READER_PASSWORD
from typer.testing import CliRunner

from miot_harness.cli import app
from miot_harness.nexo.primer import SHARED_FILTER_PRIMER


@pytest.fixture(scope="module")
def zoo_env(pg_server, zoo_db):
    return {
        "MIOT_HARNESS_NEXO_DSN": pg_server.dsn(zoo_db, ZOO_READER, ZOO_READER_PASSWORD),
        "MIOT_HARNESS_NEXO_SCHEMA": "zoo",
        "MIOT_HARNESS_NEXO_SEARCH_PATH": "zoo",
    }


def _run(args, env):
    return CliRunner().invoke(app, ["tools", *args], env=env)


def test_list_json_has_the_catalogue_shape(zoo_env):
    result = _run(["list", "--json"], zoo_env)
    assert result.exit_code == 0, result.output
    catalogue = json.loads(result.stdout)
    entries = {entry["name"]: entry for entry in catalogue["tools"]}
    schema = entries["coordinador_tabla"].pop("input_schema")
    assert entries["coordinador_tabla"] == {
        "name": "coordinador_tabla",
        "layer": "L2",
        "domain": None,
        "returns": "table",
        "arguments": ["desde", "limit", "offset"],
        "description": "[L2] Items por fecha.",
    }
    assert list(schema["properties"]) == ["desde", "limit", "offset"]
    assert schema["properties"]["limit"]["anyOf"][0]["maximum"] == 500
    assert entries["coordinador_centro_control"]["domain"] == "centro_control"
    assert entries["coordinador_json_out"]["returns"] == "json"
    assert "coordinador_privado" not in entries
    assert [e["name"] for e in catalogue["tools"]] == sorted(entries)


def test_list_table(zoo_env):
    result = _run(["list"], zoo_env)
    assert result.exit_code == 0 and "coordinador_enum_meta" in result.stdout


def test_show_prints_the_description_and_the_input_schema(zoo_env):
    result = _run(["show", "coordinador_filtros"], zoo_env)
    assert result.exit_code == 0, result.output
    assert "[L2] Devuelve los filtros recibidos.\nDomain: pruebas" in result.stdout
    assert SHARED_FILTER_PRIMER in result.stdout
    schema = json.loads(result.stdout.split("## input schema\n", 1)[1])
    assert schema["properties"]["limit"]["anyOf"][0]["maximum"] == 500


def test_show_an_unknown_tool_fails(zoo_env):
    result = _run(["show", "coordinador_nada"], zoo_env)
    assert result.exit_code == 1 and "no tool named 'coordinador_nada'" in result.stderr


def test_missing_credentials_are_named(tmp_path):
    result = _run(["list"], {"MIOT_HARNESS_NEXO_DB_SCRIPTS_ROOT": str(tmp_path)})
    assert result.exit_code == 2 and "no credentials file" in result.stderr


def test_without_a_configured_database_the_embedded_demo_is_used(demo_cluster, demo_db):
    env = {"MIOT_HARNESS_DATA_DIR": str(demo_cluster.layout.data_dir)}
    result = _run(["list", "--json"], env)
    assert result.exit_code == 0, result.output
    names = [entry["name"] for entry in json.loads(result.stdout)["tools"]]
    assert names[:3] == [
        "coordinador_auditoria_pod",
        "coordinador_catalogo",
        "coordinador_centro_control",
    ]
    assert len(names) == 10


def test_list_json_carries_what_show_prints(zoo_env):
    """The description the model reads and the argument schema, as `tools show` gives them."""
    entries = {e["name"]: e for e in json.loads(_run(["list", "--json"], zoo_env).stdout)["tools"]}
    shown = _run(["show", "coordinador_filtros"], zoo_env).stdout
    description, schema = shown.removeprefix("# coordinador_filtros\n\n").split(
        "\n\n## input schema\n\n", 1
    )
    assert entries["coordinador_filtros"]["description"] == description
    assert SHARED_FILTER_PRIMER in description
    assert entries["coordinador_filtros"]["input_schema"] == json.loads(schema)
    assert entries["coordinador_filtros"]["domain"] == "pruebas"
