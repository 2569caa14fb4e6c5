"""`demo`, `ask` and `serve` as a user runs them: subprocesses with their own data directory."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import httpx
import pytest

from cli.cli_support import harness, serve
from miot_harness.schemas import HarnessRunRecord

DEMO_TITLES = ("Resumen de KPIs", "Una tabla", "Otro tenant (rechazo)", "Relato de entregas")


@pytest.fixture(scope="module")
def demo_run(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return harness(data_dir, "demo")


def test_demo_answers_four_questions_on_a_fresh_data_dir_without_keys(demo_run) -> None:
    assert demo_run.returncode == 0, demo_run.stdout + demo_run.stderr
    out = demo_run.stdout
    assert "Nexo habilitado" in out
    positions = [out.index(title) for title in DEMO_TITLES]
    assert positions == sorted(positions)
    assert out.count("completed · ruta nexo_query") == 2
    assert "refused · ruta nexo_query · tenant logisur" in out
    assert "completed · ruta storytelling" in out
    assert "coordinador_centro_control" in out
    assert "coordinador_cola_critica" in out
    assert "delivery_metrics" in out
    assert "datos actualizados a las" in out
    assert "Demo completa" in out


def _ask_json(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> HarnessRunRecord:
    result = harness(data_dir, "ask", "--json", *args, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, "stdout holds exactly the record"
    return HarnessRunRecord.model_validate(json.loads(lines[0]))


def test_ask_json_uses_the_embedded_demo_and_continues_a_thread(data_dir: Path, demo_run) -> None:
    first = _ask_json(data_dir, "cola crítica de hoy en Valparaíso")
    assert first.status.value == "completed", first.answer
    assert first.route.value == "nexo_query"
    assert first.artifacts["nexo_plan"]["steps"][0]["args"]["region"] == "Valparaíso"
    assert first.events[0].type.value == "run.started"
    assert first.events[-1].type.value == "run.completed"

    follow = _ask_json(data_dir, "¿y ayer?", "--thread-id", first.thread_id)
    assert follow.thread_id == first.thread_id
    assert follow.status.value == "completed", follow.answer
    assert follow.artifacts["nexo_plan"]["steps"][0]["tool"] == "coordinador_cola_critica"


def test_ask_uses_the_configured_database_without_starting_the_embedded_one(
    demo_db, tmp_path: Path
) -> None:
    record = _ask_json(
        tmp_path,
        "¿cuántos servicios atrasados hay hoy en Maipú?",
        env={"MIOT_HARNESS_NEXO_DSN": demo_db.harness_dsn},
    )
    assert record.status.value == "completed", record.answer
    step = record.artifacts["nexo_plan"]["steps"][0]
    assert step["args"]["comuna"] == "Maipú"
    assert not (tmp_path / "pg").exists(), "no embedded cluster in this data directory"
    assert (tmp_path / "store.sqlite").exists()


def test_ask_json_for_another_tenant_is_a_recorded_refusal(data_dir: Path, demo_run) -> None:
    record = _ask_json(data_dir, "resumen del centro de control", "--tenant", "logisur")
    assert record.status.value == "refused"
    assert record.tenant_id == "logisur"
    assert record.events[-1].payload["refusal_reason"] == "tenant"


def test_ask_rejects_an_empty_question_naming_the_field(data_dir: Path) -> None:
    result = harness(data_dir, "ask", "   ")
    assert result.returncode == 2
    assert "message" in result.stderr


def test_serve_refuses_an_open_network_bind_without_keys(data_dir: Path) -> None:
    result = harness(data_dir, "serve", "--host", "0.0.0.0")
    assert result.returncode == 2
    assert "MIOT_HARNESS_API_KEYS" in result.stderr


def test_serve_demo_boots_like_the_cli_and_answers(data_dir: Path, demo_run) -> None:
    with serve(data_dir, "--demo") as served:
        assert served.health is not None and served.health.status_code == 200
        assert served.health.json()["nexo_enabled"] is True
        reply = httpx.post(
            f"{served.base}/runs", json={"message": "resumen del centro de control"}, timeout=60
        )
        assert reply.status_code == 200
        record = HarnessRunRecord.model_validate(reply.json())
        assert record.status.value == "completed"
        cli = _ask_json(data_dir, "¿y ayer?", "--thread-id", record.thread_id)
        assert cli.thread_id == record.thread_id
        assert set(reply.json()) == set(json.loads(cli.model_dump_json()))


def test_ask_json_carries_the_chart_specs(data_dir: Path, demo_run) -> None:
    record = _ask_json(data_dir, "resumen del centro de control de hoy")
    charts = record.artifacts["charts"]
    assert charts, "a KPI summary has a chart"
    evidence = record.artifacts["evidence"]
    for chart in charts:
        assert set(chart) == {"evidence_index", "title", "spec"}
        assert 0 <= chart["evidence_index"] < len(evidence)
        assert chart["title"] and chart["spec"]


def test_ask_prints_a_clarifications_options_with_the_command_to_send(
    data_dir: Path, demo_run
) -> None:
    result = harness(data_dir, "ask", "¿Transportes Pepito tiene servicios atrasados?")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any("needs_input · ruta nexo_query" in line for line in lines)
    first = next(i for i, line in enumerate(lines) if line.strip() == "1. TransRápido")
    command = shlex.split(lines[first + 1].strip())
    assert command[:2] == ["miot-harness", "ask"] and command[3] == "--thread-id"

    # The printed command, run as shown, goes on with the chosen carrier on the same thread.
    chosen = _ask_json(data_dir, *command[2:])
    assert chosen.thread_id == command[4]
    assert chosen.status.value == "completed", chosen.answer
    assert chosen.artifacts["nexo_plan"]["steps"][0]["args"]["transportista"] == "TransRápido"
