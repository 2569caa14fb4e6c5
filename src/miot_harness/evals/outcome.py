"""Scoring a whole golden example (all its turns) and aggregating a mode's examples."""

from __future__ import annotations

import statistics
from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from miot_harness.evals.date_tokens import resolve_filters
from miot_harness.evals.golden import GoldenExample
from miot_harness.evals.observation import RunObservation
from miot_harness.evals.scorers import (
    BOOLEAN_METRICS,
    Score,
    Usage,
    question_numbers,
    score_answer_contains,
    score_clarified_when_unresolved,
    score_false_refusal,
    score_filter_sanity,
    score_freshness_citation,
    score_model_usage,
    score_no_hallucination,
    score_no_silent_widening,
    score_refusal,
    score_route,
    score_status,
    score_tool_selection,
)
from miot_harness.settings import HarnessSettings


class TurnResult(BaseModel):
    """One question of an example: what happened and how each metric judged it."""

    question: str
    status: str
    route: str | None
    refusal_reason: str | None
    tools: list[str]
    args: list[dict[str, Any]]
    answer: str
    scores: list[Score]
    usage: Usage
    # What the tools returned, for the advisory judge; too large to keep in the result file.
    evidence: list[Any] = Field(default_factory=list, exclude=True)


class ExampleResult(BaseModel):
    """An example's verdict: a metric passes when it passes on every turn where it applies."""

    id: str
    tags: list[str]
    passed: dict[str, bool | None]
    turns: list[TurnResult] = Field(default_factory=list)
    error: str | None = None
    usage: Usage


def score_turn(
    example: GoldenExample,
    turn_index: int,
    obs: RunObservation,
    today: date,
    settings: HarnessSettings,
) -> TurnResult:
    """Every deterministic scorer applied to one turn of an example."""
    turns = example.all_turns()
    turn = turns[turn_index]
    filters = resolve_filters(turn.expected_filters, today)
    given = question_numbers(*(t.question for t in turns[: turn_index + 1]))
    given += [
        settings.nexo_freshness_warn_minutes,
        settings.nexo_freshness_refuse_minutes,
        settings.nexo_truncation_rows,
    ]
    # The expected status and clarification are the first question's; follow-ups answer.
    status = example.status() if turn_index == 0 else "completed"
    asked = example.expected_clarification if turn_index == 0 else None
    scores = [
        score_route(example.expected_route, obs),
        score_status(status, obs),
        score_tool_selection(turn.expected_tools, obs),
        score_filter_sanity(turn.expected_tools, filters, obs),
        score_freshness_citation(obs, settings.timezone),
        score_refusal(example.expected_refusal, example.refusal_reason, obs),
        score_no_hallucination(obs, settings.timezone, given),
        score_clarified_when_unresolved(
            status,
            asked.reason if asked else None,
            asked.unresolved_filters if asked else (),
            obs,
        ),
        score_no_silent_widening(status, turn.expected_tools, filters, obs),
        score_false_refusal(status, obs),
        score_answer_contains(example.expected_answer_contains if turn_index == 0 else (), obs),
    ]
    return TurnResult(
        question=turn.question,
        status=obs.status,
        route=obs.route,
        refusal_reason=obs.refusal_reason,
        tools=[call.tool for call in obs.tool_calls],
        args=[call.args for call in obs.tool_calls],
        answer=obs.answer,
        scores=scores,
        usage=score_model_usage(obs),
        evidence=obs.evidence,
    )


def _combine(verdicts: list[bool | None]) -> bool | None:
    applicable = [v for v in verdicts if v is not None]
    return all(applicable) if applicable else None


def combine_example(example: GoldenExample, turns: list[TurnResult]) -> ExampleResult:
    """An example's per-metric verdict and summed usage from its turns."""
    passed = {
        metric: _combine([s.passed for t in turns for s in t.scores if s.metric == metric])
        for metric in BOOLEAN_METRICS
    }
    usage = Usage(
        latency_ms=sum(t.usage.latency_ms for t in turns),
        model_calls=sum(t.usage.model_calls for t in turns),
        input_tokens=sum(t.usage.input_tokens for t in turns),
        output_tokens=sum(t.usage.output_tokens for t in turns),
    )
    return ExampleResult(id=example.id, tags=example.tags, passed=passed, turns=turns, usage=usage)


def failed_example(example: GoldenExample, error: str, turns: list[TurnResult]) -> ExampleResult:
    """An example whose run raised: every metric fails, and the error is kept."""
    result = combine_example(example, turns)
    return result.model_copy(
        update={"passed": dict.fromkeys(BOOLEAN_METRICS, False), "error": error}
    )


class MetricRate(BaseModel):
    passed: int
    applicable: int
    rate: float | None


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _all_passed(result: ExampleResult) -> bool:
    return result.error is None and all(v is not False for v in result.passed.values())


def by_tag(results: list[ExampleResult]) -> dict[str, dict[str, int]]:
    """Per tag: how many examples carry it and how many passed every applicable metric."""
    tags = sorted({tag for result in results for tag in result.tags})
    return {
        tag: {
            "examples": sum(1 for r in results if tag in r.tags),
            "passed_all": sum(1 for r in results if tag in r.tags and _all_passed(r)),
        }
        for tag in tags
    }


def aggregate(results: list[ExampleResult]) -> dict[str, Any]:
    """Pass rates per metric and per tag, and latency, model calls and tokens per run."""
    rates = {}
    for metric in BOOLEAN_METRICS:
        # A metric an example does not report (one added since) does not apply to it.
        verdicts = [r.passed.get(metric) for r in results if r.passed.get(metric) is not None]
        passed = sum(1 for v in verdicts if v)
        rate = passed / len(verdicts) if verdicts else None
        rates[metric] = MetricRate(passed=passed, applicable=len(verdicts), rate=rate).model_dump()
    runs = [t.usage for r in results for t in r.turns]
    latencies = [u.latency_ms for u in runs] or [0.0]
    return {
        "examples": len(results),
        "errors": sum(1 for r in results if r.error),
        "runs": len(runs),
        "metrics": rates,
        "latency_ms": {
            "p50": round(statistics.median(latencies), 2),
            "p95": round(_percentile(latencies, 0.95), 2),
            "mean": round(statistics.fmean(latencies), 2),
        },
        "model_calls_per_run": round(statistics.fmean([u.model_calls for u in runs] or [0]), 3),
        "input_tokens_per_run": round(statistics.fmean([u.input_tokens for u in runs] or [0]), 1),
        "output_tokens_per_run": round(statistics.fmean([u.output_tokens for u in runs] or [0]), 1),
        "model_calls_total": sum(u.model_calls for u in runs),
        "passed_all": sum(1 for r in results if _all_passed(r)),
        "by_tag": by_tag(results),
    }
