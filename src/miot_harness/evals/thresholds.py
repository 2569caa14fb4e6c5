"""`--min-<metric>` and `--max-*` thresholds checked against a mode's aggregates."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from miot_harness.evals.scorers import BOOLEAN_METRICS


class Thresholds(BaseModel):
    """Minimum pass rates (0–1) per metric, and maxima for latency and model calls."""

    route: float | None = None
    status: float | None = None
    tool_selection: float | None = None
    filter_sanity: float | None = None
    freshness_citation: float | None = None
    refusal: float | None = None
    no_hallucination: float | None = None
    clarified_when_unresolved: float | None = None
    no_silent_widening: float | None = None
    false_refusal: float | None = None
    answer_contains: float | None = None
    latency_p95_ms: float | None = None
    model_calls_per_run: float | None = None


def missed_thresholds(thresholds: Thresholds, aggregates: dict[str, Any]) -> list[str]:
    """One line per threshold the aggregates miss; a metric with no applicable case misses."""
    missed = []
    for metric in BOOLEAN_METRICS:
        minimum = getattr(thresholds, metric)
        if minimum is None:
            continue
        rate = aggregates["metrics"][metric]["rate"]
        if rate is None or rate < minimum:
            shown = "n/a" if rate is None else f"{rate:.3f}"
            missed.append(f"{metric} {shown} < {minimum:.3f} (--min-{metric.replace('_', '-')})")
    p95 = aggregates["latency_ms"]["p95"]
    if thresholds.latency_p95_ms is not None and p95 > thresholds.latency_p95_ms:
        missed.append(f"latency p95 {p95:.1f} ms > {thresholds.latency_p95_ms:.1f} ms")
    calls = aggregates["model_calls_per_run"]
    if thresholds.model_calls_per_run is not None and calls > thresholds.model_calls_per_run:
        missed.append(f"model calls per run {calls:.2f} > {thresholds.model_calls_per_run:.2f}")
    return missed
