"""Deterministic scorers: pure functions from expectations and a `RunObservation` to a `Score`."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from miot_harness.evals.numbers import answer_numbers, evidence_numbers, is_supported
from miot_harness.evals.observation import RunObservation
from miot_harness.language.normalise import fold_phrase

BOOLEAN_METRICS = (
    "route",
    "status",
    "tool_selection",
    "filter_sanity",
    "freshness_citation",
    "refusal",
    "no_hallucination",
    "clarified_when_unresolved",
    "no_silent_widening",
    "false_refusal",
    "answer_contains",
)


class Score(BaseModel):
    """One metric's verdict for one run; `passed` is None when the metric does not apply."""

    metric: str
    passed: bool | None
    detail: str = ""


def score_route(expected_route: str, obs: RunObservation) -> Score:
    """The run took the expected route."""
    passed = obs.route == expected_route
    return Score(metric="route", passed=passed, detail=f"route {obs.route}")


def score_tool_selection(expected_tools: list[str], obs: RunObservation) -> Score:
    """The first tool called is the primary, and every expected tool was called.

    An entry that expects no tool passes only when no tool was called.
    """
    called = [call.tool for call in obs.tool_calls]
    if not expected_tools:
        return Score(metric="tool_selection", passed=not called, detail=f"called {called}")
    missing = [tool for tool in expected_tools if tool not in called]
    primary_first = bool(called) and called[0] == expected_tools[0]
    passed = primary_first and not missing
    detail = f"called {called}" + (f"; missing {missing}" if missing else "")
    return Score(metric="tool_selection", passed=passed, detail=detail)


def _same_value(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool):
        return actual is expected or (
            isinstance(actual, str) and fold_phrase(actual) == str(expected).lower()
        )
    if isinstance(expected, int | float):
        try:
            return math.isclose(float(actual), float(expected))
        except (TypeError, ValueError):
            return False
    actual_text = actual.isoformat() if hasattr(actual, "isoformat") else str(actual)
    return fold_phrase(actual_text) == fold_phrase(str(expected))


def score_filter_sanity(
    expected_tools: list[str], expected_filters: dict[str, Any], obs: RunObservation
) -> Score:
    """The primary tool's first call carries every expected filter, equal to the expected value.

    `expected_filters` must already have its date tokens resolved; extra arguments are allowed.
    """
    if not expected_filters or not expected_tools:
        return Score(metric="filter_sanity", passed=None, detail="no filters expected")
    call = next((c for c in obs.tool_calls if c.tool == expected_tools[0]), None)
    if call is None:
        return Score(metric="filter_sanity", passed=False, detail=f"{expected_tools[0]} not called")
    wrong = {
        key: call.args.get(key)
        for key, value in expected_filters.items()
        if key not in call.args or not _same_value(value, call.args[key])
    }
    detail = "ok" if not wrong else f"expected {expected_filters}, differing {wrong}"
    return Score(metric="filter_sanity", passed=not wrong, detail=detail)


def local_clock_forms(stamp: datetime, timezone: str) -> tuple[str, ...]:
    """How an answer may write a refresh stamp's local time: "09:05" or "9:05"."""
    local = stamp.astimezone(ZoneInfo(timezone))
    return (f"{local:%H:%M}", f"{local.hour}:{local:%M}")


def score_freshness_citation(obs: RunObservation, timezone: str) -> Score:
    """An answered run cites the local time of at least one evidence refresh stamp."""
    if obs.status == "refused" or not obs.refresh_stamps:
        return Score(metric="freshness_citation", passed=None, detail="no evidence to cite")
    forms = {form for stamp in obs.refresh_stamps for form in local_clock_forms(stamp, timezone)}
    passed = any(form in obs.answer for form in forms)
    return Score(
        metric="freshness_citation",
        passed=passed,
        detail=f"looked for {sorted(forms)}",
    )


def score_refusal(expected_refusal: bool, refusal_reason: str | None, obs: RunObservation) -> Score:
    """Refused exactly when expected, and then for the expected reason."""
    refused = obs.status == "refused"
    if refused != expected_refusal:
        verb = "refused" if refused else "not refused"
        return Score(metric="refusal", passed=False, detail=f"{verb} (status {obs.status})")
    if expected_refusal and obs.refusal_reason != refusal_reason:
        return Score(
            metric="refusal",
            passed=False,
            detail=f"reason {obs.refusal_reason}, expected {refusal_reason}",
        )
    return Score(metric="refusal", passed=True, detail=f"status {obs.status}")


def score_status(expected_status: str, obs: RunObservation) -> Score:
    """The run ended with the expected status (completed, refused or needs_input)."""
    passed = obs.status == expected_status
    return Score(metric="status", passed=passed, detail=f"status {obs.status}")


def score_clarified_when_unresolved(
    expected_status: str,
    reason: str | None,
    unresolved_filters: Iterable[str],
    obs: RunObservation,
) -> Score:
    """A question the harness must ask about ends needs_input, before any tool, asking for
    the expected reason about (at least) the expected filters."""
    metric = "clarified_when_unresolved"
    if expected_status != "needs_input":
        return Score(metric=metric, passed=None, detail="nothing to ask")
    asked = obs.clarification or {}
    if obs.status != "needs_input" or not asked:
        return Score(metric=metric, passed=False, detail=f"status {obs.status}, nothing asked")
    if obs.tool_calls:
        called = [call.tool for call in obs.tool_calls]
        return Score(metric=metric, passed=False, detail=f"called {called} before asking")
    if reason is not None and asked.get("reason") != reason:
        return Score(metric=metric, passed=False, detail=f"asked {asked.get('reason')}")
    named = {item.get("filter") for item in asked.get("unresolved") or []}
    missing = sorted(set(unresolved_filters) - named)
    detail = f"asked about {sorted(f for f in named if f)}" + (
        f"; not about {missing}" if missing else ""
    )
    return Score(metric=metric, passed=not missing, detail=detail)


def score_no_silent_widening(
    expected_status: str,
    expected_tools: list[str],
    expected_filters: dict[str, Any],
    obs: RunObservation,
) -> Score:
    """Data fetched answers the question asked: never instead of asking, never with an
    expected filter left out of the primary tool's call (a wider question answered)."""
    metric = "no_silent_widening"
    if not obs.tool_calls:
        return Score(metric=metric, passed=None, detail="no data fetched")
    if expected_status == "needs_input":
        return Score(metric=metric, passed=False, detail="fetched data instead of asking")
    primary = next(
        (call for call in obs.tool_calls if expected_tools and call.tool == expected_tools[0]),
        None,
    )
    if primary is None:
        return Score(metric=metric, passed=None, detail="primary tool not called")
    dropped = sorted(
        name
        for name in expected_filters
        if name not in primary.args and f"p_{name}" not in primary.args
    )
    detail = f"dropped {dropped}" if dropped else "every expected filter kept"
    return Score(metric=metric, passed=not dropped, detail=detail)


def score_false_refusal(expected_status: str, obs: RunObservation) -> Score:
    """An answerable question (or one to ask about) is not refused."""
    if expected_status == "refused":
        return Score(metric="false_refusal", passed=None, detail="a refusal is expected")
    refused = obs.status == "refused"
    detail = f"refused ({obs.refusal_reason})" if refused else f"status {obs.status}"
    return Score(metric="false_refusal", passed=not refused, detail=detail)


def _stamp_numbers(stamp: datetime, obs: RunObservation, timezone: str) -> list[float]:
    """Numbers an answer may derive from a refresh stamp: its local date and time, its age."""
    local = stamp.astimezone(ZoneInfo(timezone))
    parts = [local.year, local.month, local.day, local.hour, local.minute, local.second]
    ages = [(moment - stamp).total_seconds() / 60 for moment in (obs.started_at, obs.finished_at)]
    low, high = math.floor(min(ages)) - 1, math.ceil(max(ages)) + 1
    minutes = list(range(max(low, 0), high + 1))
    hours = sorted({m // 60 for m in minutes} | {math.ceil(m / 60) for m in minutes})
    return [float(n) for n in (*parts, *minutes, *hours)]


def score_no_hallucination(
    obs: RunObservation, timezone: str, given_numbers: Iterable[float] = ()
) -> Score:
    """Every number in the answer appears in the evidence, as shown (separators, %, rounding).

    `given_numbers` are numbers the run was told: the question's and the settings' thresholds.
    """
    numbers = answer_numbers(obs.answer)
    if not obs.answer.strip():
        return Score(metric="no_hallucination", passed=None, detail="no answer")
    if obs.status == "needs_input":
        # The harness writes a clarification itself (numbered options), never from data.
        return Score(metric="no_hallucination", passed=None, detail="a clarification")
    known = set(evidence_numbers(obs.evidence, ZoneInfo(timezone))) | set(given_numbers)
    for stamp in obs.refresh_stamps:
        known.update(_stamp_numbers(stamp, obs, timezone))
    unsupported = [n.text for n in numbers if not is_supported(n, known)]
    detail = "ok" if not unsupported else f"not in evidence: {unsupported}"
    return Score(metric="no_hallucination", passed=not unsupported, detail=detail)


def question_numbers(*questions: str) -> list[float]:
    """Numbers a user wrote in the questions of a thread (they may be echoed back)."""
    return [r.value for q in questions for n in answer_numbers(q) for r in n.readings]


class Usage(BaseModel):
    """What one run cost: wall time, model calls and tokens."""

    latency_ms: float
    model_calls: int
    input_tokens: int
    output_tokens: int


def score_latency_ms(obs: RunObservation, budget_ms: float | None = None) -> Score:
    """The run's wall time, passing when within `budget_ms` (not applicable without one)."""
    passed = None if budget_ms is None else obs.latency_ms <= budget_ms
    return Score(metric="latency_ms", passed=passed, detail=f"{obs.latency_ms:.1f} ms")


def score_model_usage(obs: RunObservation) -> Usage:
    """Model calls and tokens per run, as the run's events report them."""
    return Usage(
        latency_ms=obs.latency_ms,
        model_calls=obs.model_calls,
        input_tokens=obs.input_tokens,
        output_tokens=obs.output_tokens,
    )


def answer_prose(answer: str) -> str:
    """The answer before its first table: what was written, not the rows appended to it."""
    return answer.split("\n|", 1)[0]


def score_answer_contains(expected: Iterable[str], obs: RunObservation) -> Score:
    """Each expected phrase is in the answer's prose (accents and case folded); n/a if none."""
    wanted = list(expected)
    if not wanted:
        return Score(metric="answer_contains", passed=None, detail="no phrases expected")
    prose = fold_phrase(answer_prose(obs.answer))
    missing = [phrase for phrase in wanted if fold_phrase(phrase) not in prose]
    detail = "ok" if not missing else f"missing {missing}"
    return Score(metric="answer_contains", passed=not missing, detail=detail)
