"""Rich output: the summary table of a mode's aggregates and the static coverage table."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from miot_harness.evals.catalogue import NEXO_PREFIX
from miot_harness.evals.outcome import ExampleResult
from miot_harness.evals.scorers import BOOLEAN_METRICS


def _rate(cell: dict[str, Any]) -> str:
    if cell["rate"] is None:
        return "n/a"
    return f"{cell['rate'] * 100:.1f} %"


def summary_table(mode: str, aggregates: dict[str, Any], wall_s: float) -> Table:
    """One row per metric with passed/applicable, then latency and model usage."""
    table = Table(title=f"miot-harness evals — mode {mode} — {aggregates['examples']} examples")
    table.add_column("metric")
    table.add_column("result", justify="right")
    table.add_column("passed / applicable", justify="right")
    for metric in BOOLEAN_METRICS:
        cell = aggregates["metrics"][metric]
        table.add_row(metric, _rate(cell), f"{cell['passed']} / {cell['applicable']}")
    latency = aggregates["latency_ms"]
    table.add_row("latency_ms p50 / p95", f"{latency['p50']:.1f} / {latency['p95']:.1f}", "")
    table.add_row("model calls per run", f"{aggregates['model_calls_per_run']:.2f}", "")
    tokens = f"{aggregates['input_tokens_per_run']:.0f} / {aggregates['output_tokens_per_run']:.0f}"
    table.add_row("tokens in / out per run", tokens, "")
    table.add_row("examples passing every metric", str(aggregates["passed_all"]), "")
    table.add_row("errors", str(aggregates["errors"]), "")
    table.add_row("wall time", f"{wall_s:.2f} s", "")
    return table


def failures_table(results: list[ExampleResult]) -> Table | None:
    """The examples that failed some metric, with the failing metrics' details."""
    table = Table(title="failing examples (tool names without coordinador_)")
    table.add_column("id", overflow="fold")
    table.add_column("failed metrics")
    table.add_column("detail", ratio=1)
    for result in results:
        failed = [m for m in BOOLEAN_METRICS if result.passed[m] is False]
        if not failed:
            continue
        details = [
            f"{s.metric}: {s.detail}".replace(NEXO_PREFIX, "")
            for turn in result.turns
            for s in turn.scores
            if s.passed is False
        ]
        table.add_row(result.id, ", ".join(failed), result.error or "; ".join(details))
    return table if table.row_count else None


def coverage_table(coverage: dict[str, Any]) -> Table:
    """The static mode's view: how many entries exercise each tool, reason and filter."""
    title = f"golden set — {coverage['examples']} entries, valid against {coverage['catalogue']}"
    table = Table(title=title)
    table.add_column("what")
    table.add_column("count", justify="right")
    for tool, count in coverage["tools"].items():
        table.add_row(tool, str(count))
    for reason, count in coverage["refusal_reasons"].items():
        table.add_row(f"refusal: {reason}", str(count))
    for key in ("two_tool", "follow_ups", "adversarial", "storytelling", "english"):
        table.add_row(key.replace("_", " "), str(coverage[key]))
    table.add_row("filter kinds", ", ".join(coverage["filters"]))
    return table


def print_tables(console: Console, *tables: Table | None) -> None:
    for table in tables:
        if table is not None:
            console.print(table)
