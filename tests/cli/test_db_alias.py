"""A hyphenated db-scripts alias (`coordinador-prod-harness`) works wherever an alias is read."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from cli.cli_support import harness
from miot_harness.demo.cluster import DemoConnection
from miot_harness.demo.layout import env_path, read_env, write_env
from miot_harness.runtime import open_runtime
from miot_harness.schemas import HarnessRunRecord, RunStatus, UserRequest
from miot_harness.settings import load_settings

ALIAS = "coordinador-prod-harness"


@pytest.fixture
def prod_root(tmp_path: Path, demo_db: DemoConnection) -> Path:
    """A db-scripts root whose hyphenated alias points at the session's demo database."""
    creds = read_env(env_path(demo_db.db_scripts_root, demo_db.alias))
    assert creds is not None
    root = tmp_path / "db-scripts"
    write_env(env_path(root, ALIAS), creds)
    return root


def _harness(tmp_path: Path, root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"MIOT_HARNESS_NEXO_DB_SCRIPTS_ROOT": str(root), "MIOT_HARNESS_NEXO_DB_ALIAS": ALIAS}
    return harness(tmp_path / "data", *args, env=env, cwd=tmp_path)


async def test_the_runtime_boots_and_answers_through_a_hyphenated_alias(
    prod_root: Path, tmp_path: Path
) -> None:
    settings = load_settings(
        data_dir=tmp_path / "data", nexo_db_scripts_root=prod_root, nexo_db_alias=ALIAS
    )
    async with open_runtime(settings) as runtime:
        assert runtime.nexo_enabled, runtime.nexo_reason
        record = await runtime.supervisor.run(
            UserRequest(message="resumen del centro de control de hoy"),
            tenant_id="mintral",
            user_id="ana",
        )
    assert record.status is RunStatus.COMPLETED, record.answer
    assert record.artifacts["nexo_plan"]["steps"][0]["tool"] == "coordinador_centro_control"


def test_ask_and_tools_read_the_alias_from_the_environment(prod_root: Path, tmp_path: Path) -> None:
    asked = _harness(tmp_path, prod_root, "ask", "--json", "resumen del centro de control de hoy")
    assert asked.returncode == 0, asked.stderr
    record = HarnessRunRecord.model_validate(json.loads(asked.stdout))
    assert record.status is RunStatus.COMPLETED, record.answer
    assert not (tmp_path / "data" / "pg").exists(), "the alias's database, not the embedded one"

    listed = _harness(tmp_path, prod_root, "tools", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    names = [tool["name"] for tool in json.loads(listed.stdout)["tools"]]
    assert "coordinador_centro_control" in names


def test_db_commands_load_settings_with_a_hyphenated_alias(prod_root: Path, tmp_path: Path) -> None:
    status = _harness(tmp_path, prod_root, "db", "status")
    assert "invalid configuration" not in status.stderr
    # The alias is valid, so `db status` reaches the data directory, where nothing runs yet.
    assert status.returncode == 1, status.stderr
    assert "no está corriendo" in status.stdout
