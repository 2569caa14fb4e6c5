"""The fake mode over the whole golden set, and the offline mode against a demo database."""

import json
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from miot_harness.evals.catalogue import load_catalogue
from miot_harness.evals.golden import load_golden
from miot_harness.evals.modes import open_runtime_session
from miot_harness.evals.outcome import aggregate
from miot_harness.evals.run_golden import app
from miot_harness.request_gate import check_request
from miot_harness.routing import classify_route
from miot_harness.settings import load_settings

GOLDEN = Path(__file__).parents[2] / "evals" / "golden" / "nexo" / "examples.yaml"
RANKING = GOLDEN.with_name("ranking.yaml")
SNAPSHOT = Path(__file__).parents[1] / "nexo" / "catalogue_snapshot.json"
CATALOGUE = load_catalogue(SNAPSHOT)
EXAMPLES = load_golden(GOLDEN, CATALOGUE)
RANKINGS = load_golden(RANKING, CATALOGUE)
# Metrics the offline model must keep whole on the golden set.
WHOLE = ("route", "refusal", "freshness_citation", "no_hallucination")


def deterministic_disagreements() -> set[str]:
    """Examples where the gate or the router (no model involved) disagree with the golden set."""
    settings = load_settings()
    texts = tuple(CATALOGUE.descriptions.values())
    gated = {"tenant", "unsafe"}
    ids = set()
    for example in EXAMPLES:
        verdict = check_request(example.question, example.tenant_id, settings)
        expected_gate = example.refusal_reason if example.refusal_reason in gated else None
        routes = {classify_route(t.question, texts).value for t in example.all_turns()}
        got_gate = verdict.reason.value if verdict else None
        if got_gate != expected_gate or routes != {example.expected_route}:
            ids.add(example.id)
    return ids


def test_fake_mode_runs_every_example_through_the_graph(tmp_path, monkeypatch):
    monkeypatch.setenv("MIOT_HARNESS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("MIOT_HARNESS_STORE_DSN", raising=False)
    result = CliRunner().invoke(
        app,
        ["--mode", "fake", "--catalogue", str(SNAPSHOT), "--results-dir", str(tmp_path)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    [path] = tmp_path.glob("*.json")
    fake = json.loads(path.read_text())["modes"]["fake"]
    assert fake["aggregates"]["examples"] == len(EXAMPLES)
    assert fake["aggregates"]["errors"] == 0
    assert set(fake["models"].values()) == {"fake-scripted"}
    by_id = {example["id"]: example for example in fake["examples"]}
    assert len(by_id["hilo-atrasados-rm-y-ayer"]["turns"]) == 2
    failing = {e["id"] for e in fake["examples"] if False in e["passed"].values()}
    # Scripted seats answer as the golden set expects: only the gate or router can differ.
    assert failing <= deterministic_disagreements()
    gated = [e for e in EXAMPLES if e.refusal_reason in ("tenant", "unsafe")]
    for example in gated:
        if example.id not in failing:
            [turn] = by_id[example.id]["turns"]
            assert turn["usage"]["model_calls"] == 0 and turn["tools"] == []
    stale = by_id["stale-resumen-3h"]["turns"][0]
    assert stale["status"] == "refused" and stale["refusal_reason"] == "stale"


def snapshot_stamps(owner_dsn: str) -> dict:
    with psycopg.connect(owner_dsn) as conn:
        return dict(conn.execute("SELECT snapshot, refreshed_at FROM nexo.snapshot_refresh"))


@pytest.mark.timeout(240)
async def test_offline_mode_against_the_demo_database(demo_db_clone, tmp_path):
    settings = load_settings(
        nexo_dsn=demo_db_clone.harness_dsn,
        nexo_db_scripts_root=None,
        data_dir=tmp_path,
        store_dsn=None,
        model="offline",
    )
    before = snapshot_stamps(demo_db_clone.owner_dsn)
    async with open_runtime_session(settings, demo=False, owner_dsn=demo_db_clone.owner_dsn) as (
        session,
        models,
    ):
        results = [await session.run_example(example) for example in EXAMPLES]
        ranked = [await session.run_example(example) for example in RANKINGS]
    assert set(models.values()) == {"offline"}
    assert snapshot_stamps(demo_db_clone.owner_dsn) == before
    assert [r.error for r in results if r.error] == []
    by_id = {r.id: r for r in results}
    for example in EXAMPLES:
        assert len(by_id[example.id].turns) == len(example.all_turns())
        if example.refusal_reason == "stale":
            [turn] = by_id[example.id].turns
            assert (turn.status, turn.refusal_reason) == ("refused", "stale")
            assert turn.tools == example.expected_tools
    warned = by_id["stale-aviso-cola-30min"].turns[0]
    assert warned.status == "completed"
    aggregates = aggregate(results)
    assert aggregates["examples"] == len(EXAMPLES) and aggregates["model_calls_total"] > 0
    for metric in WHOLE:
        assert aggregates["metrics"][metric]["rate"] == 1.0, (metric, aggregates["metrics"])
    # Every example that names an expected item, in both files, has it in its answer.
    expects = {e.id for e in EXAMPLES if e.expected_answer_contains}
    with_items = [r for r in results if r.id in expects] + ranked
    scores = aggregate(with_items)["metrics"]
    assert scores["answer_contains"]["applicable"] == len(with_items) > len(RANKINGS) > 0
    missed = [r.id for r in with_items if not r.passed["answer_contains"]]
    assert scores["answer_contains"]["rate"] == 1.0, missed
    for metric in (*WHOLE, "tool_selection", "filter_sanity"):
        assert aggregate(ranked)["metrics"][metric]["rate"] == 1.0, metric
