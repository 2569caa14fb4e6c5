"""`miot-harness-evals`: static validation, result sections, thresholds, real mode without keys."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from miot_harness.evals.results import public_settings, write_mode_section
from miot_harness.evals.run_golden import app
from miot_harness.evals.scorers import BOOLEAN_METRICS
from miot_harness.evals.thresholds import Thresholds, missed_thresholds
from miot_harness.settings import load_settings

GOLDEN = Path(__file__).parents[2] / "evals" / "golden" / "nexo" / "examples.yaml"
KEY_VARIABLES = (
    "ANTHROPIC_API_KEY",
    "MIOT_HARNESS_ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "MIOT_HARNESS_OPENAI_API_KEY",
    "MIOT_HARNESS_OPENAI_BASE_URL",
    "OPENAI_BASE_URL",
    "MIOT_HARNESS_MODEL",
    "MIOT_HARNESS_NEXO_FILTER_EXPERT_MODEL",
    "MIOT_HARNESS_NEXO_ANALYST_MODEL",
    "MIOT_HARNESS_NEXO_SYNTHESIZER_MODEL",
    "MIOT_HARNESS_NEXO_CRITIC_MODEL",
    "MIOT_HARNESS_NEXO_SUMMARIZER_MODEL",
)


@pytest.fixture
def no_keys(monkeypatch, tmp_path):
    for name in KEY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MIOT_HARNESS_DATA_DIR", str(tmp_path / "data"))


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_static_validates_and_writes_its_section(tmp_path, no_keys):
    result = invoke("--mode", "static", "--golden", str(GOLDEN), "--results-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "golden set valid" in result.output
    [path] = tmp_path.glob("*.json")
    static = json.loads(path.read_text())["modes"]["static"]
    assert static["coverage"]["examples"] >= 40
    assert static["coverage"]["tools"]["coordinador_catalogo"] >= 3


def test_static_names_the_bad_entry_and_fails(tmp_path, no_keys):
    bad = tmp_path / "bad.yaml"
    entry = GOLDEN.read_text(encoding="utf-8").split("\n- id: cc-kpis-rm-ayer")[0]
    bad.write_text(entry.replace("adversarial: false", "adversarial: true", 1), encoding="utf-8")
    result = invoke("--golden", str(bad), "--results-dir", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "'cc-resumen-hoy'" in result.output and "must expect a refusal" in result.output
    assert not (tmp_path / "out").exists()


def test_only_with_unknown_id_fails(tmp_path, no_keys):
    result = invoke("--only", "cc-resumen-hoy,no-such-id", "--results-dir", str(tmp_path))
    assert result.exit_code == 1 and "no-such-id" in result.output


def test_real_mode_without_a_key_exits_2_naming_the_variable(tmp_path, no_keys, monkeypatch):
    monkeypatch.setenv("MIOT_HARNESS_MODEL", "claude-sonnet-4-5")
    result = invoke("--mode", "real", "--results-dir", str(tmp_path))
    assert result.exit_code == 2
    assert "ANTHROPIC_API_KEY" in result.output
    assert not list(tmp_path.glob("*.json"))


def test_real_mode_with_only_offline_seats_exits_2(tmp_path, no_keys):
    result = invoke("--mode", "real", "--results-dir", str(tmp_path))
    assert result.exit_code == 2 and "MIOT_HARNESS_MODEL" in result.output


def test_real_mode_model_flag_checks_its_provider(tmp_path, no_keys):
    result = invoke("--mode", "real", "--model", "gpt-4o", "--results-dir", str(tmp_path))
    assert result.exit_code == 2 and "OPENAI_API_KEY" in result.output
    local = invoke("--mode", "real", "--model", "openai:llama3", "--results-dir", str(tmp_path))
    assert local.exit_code == 2 and "MIOT_HARNESS_OPENAI_BASE_URL" in local.output


def test_console_script_real_mode_without_key(tmp_path, no_keys, monkeypatch):
    monkeypatch.setenv("MIOT_HARNESS_MODEL", "gpt-4o-mini")
    script = Path(sys.executable).parent / "miot-harness-evals"
    done = subprocess.run(
        [str(script), "--mode", "real", "--results-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "OPENAI_API_KEY" in done.stdout + done.stderr


def test_a_mode_rewrites_only_its_own_section(tmp_path):
    write_mode_section(tmp_path, "abc1234", "static", {"n": 1})
    write_mode_section(tmp_path, "abc1234", "fake", {"n": 2})
    path = write_mode_section(tmp_path, "abc1234", "static", {"n": 3})
    document = json.loads(path.read_text())
    assert path.name == "abc1234.json" and document["commit"] == "abc1234"
    assert document["modes"] == {"static": {"n": 3}, "fake": {"n": 2}}


def test_result_settings_carry_no_secret():
    settings = load_settings(
        anthropic_api_key="sk-ant-secret", nexo_dsn="postgresql://u:pw@h/db", model="offline"
    )
    public = public_settings(settings)
    text = json.dumps(public)
    assert "sk-ant-secret" not in text and "pw@" not in text
    assert public["anthropic_api_key"] == "set" and public["openai_api_key"] is None
    assert public["timezone"] == settings.timezone


def aggregates(rate: float, p95: float, calls: float) -> dict:
    metric = {"passed": 9, "applicable": 10, "rate": rate}
    return {
        "metrics": dict.fromkeys(BOOLEAN_METRICS, metric),
        "latency_ms": {"p50": p95 / 2, "p95": p95, "mean": p95 / 2},
        "model_calls_per_run": calls,
    }


def test_thresholds_pass_and_miss():
    strict = Thresholds(tool_selection=0.9, refusal=1.0, latency_p95_ms=50, model_calls_per_run=3)
    assert missed_thresholds(Thresholds(tool_selection=0.9), aggregates(0.9, 10, 3)) == []
    missed = missed_thresholds(strict, aggregates(0.9, 80, 3.5))
    assert len(missed) == 3
    assert any("--min-refusal" in line for line in missed)
    assert any("latency p95" in line for line in missed)
    assert any("model calls per run" in line for line in missed)


def test_another_golden_file_gets_its_own_section(tmp_path, no_keys):
    holdout = GOLDEN.with_name("holdout.yaml")
    invoke("--golden", str(GOLDEN), "--results-dir", str(tmp_path))
    result = invoke("--golden", str(holdout), "--results-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    [path] = tmp_path.glob("*.json")
    modes = json.loads(path.read_text())["modes"]
    assert set(modes) == {"static", "static:holdout"}
    assert modes["static:holdout"]["golden"] == str(holdout)


def test_a_missed_threshold_exits_1_after_writing_the_result(tmp_path, no_keys):
    result = invoke(
        "--mode",
        "fake",
        "--only",
        "cc-resumen-hoy",
        "--max-model-calls-per-run",
        "1",
        "--min-route",
        "1",
        "--results-dir",
        str(tmp_path),
    )
    assert result.exit_code == 1
    assert "model calls per run 3.00 > 1.00" in result.output
    assert "--min-route" not in result.output
    [path] = tmp_path.glob("*.json")
    assert json.loads(path.read_text())["modes"]["fake"]["aggregates"]["examples"] == 1


def test_judge_without_its_key_exits_2(tmp_path, no_keys):
    result = invoke("--mode", "fake", "--judge", "claude-opus-4-1", "--results-dir", str(tmp_path))
    assert (
        result.exit_code == 2
        and "--judge" in result.output
        and "ANTHROPIC_API_KEY" in result.output
    )
