"""The golden set: its entry model, loading, and the validation rules `--mode static` applies."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from miot_harness.evals.catalogue import ToolCatalogue
from miot_harness.evals.date_tokens import DateTokenError, check_date_token, is_date_token
from miot_harness.evals.paths import ROOT
from miot_harness.nexo.contract import FILTER_CONTRACT_ARGUMENTS

DEFAULT_GOLDEN = ROOT / "evals" / "golden" / "nexo" / "examples.yaml"
Route = Literal["nexo_query", "storytelling"]
Reason = Literal["tenant", "stale", "unsafe", "out_of_scope"]
Status = Literal["completed", "refused", "needs_input"]
ClarificationReason = Literal["unresolved_value", "ambiguous_tool"]
_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,79}$")
_TOOLLESS_REASONS = ("tenant", "unsafe", "out_of_scope")


class GoldenTurn(BaseModel):
    """A follow-up question in the same thread, with its own expected tools and filters."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1)
    expected_tools: list[str]
    expected_filters: dict[str, Any]


class GoldenClarification(BaseModel):
    """What a run that stops to ask should ask about: unmatched filters, or tools to offer."""

    model_config = ConfigDict(extra="forbid")

    reason: ClarificationReason
    unresolved_filters: list[str] = Field(default_factory=list)
    candidate_tools: list[str] = Field(default_factory=list)


class GoldenExample(BaseModel):
    """One golden-set entry; route, refusal and tenant expectations hold for every turn."""

    model_config = ConfigDict(extra="forbid")

    id: str
    question: str = Field(min_length=1)
    tenant_id: str = Field(min_length=1)
    expected_route: Route
    expected_tools: list[str]
    expected_filters: dict[str, Any]
    expected_refusal: bool
    refusal_reason: Reason | None
    adversarial: bool
    tags: list[str]
    stale_minutes: int | None = Field(default=None, ge=1)
    turns: list[GoldenTurn] = Field(default_factory=list)
    expected_status: Status | None = None
    expected_clarification: GoldenClarification | None = None
    expected_answer_contains: list[str] = Field(default_factory=list)

    def status(self) -> Status:
        """The run status the first question should end with; derived when not given."""
        if self.expected_status is not None:
            return self.expected_status
        return "refused" if self.expected_refusal else "completed"

    def all_turns(self) -> list[GoldenTurn]:
        """The first question and its follow-ups, in order."""
        first = GoldenTurn(
            question=self.question,
            expected_tools=self.expected_tools,
            expected_filters=self.expected_filters,
        )
        return [first, *self.turns]


REQUIRED_FIELDS = tuple(
    name for name, field in GoldenExample.model_fields.items() if field.is_required()
)


class GoldenSetError(ValueError):
    """The golden set broke one or more rules; each problem names its entry."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _label(index: int, raw: Any) -> str:
    ident = raw.get("id") if isinstance(raw, dict) else None
    return f"entry {index + 1} ({ident!r})" if ident is not None else f"entry {index + 1}"


def _field_problems(label: str, raw: dict[str, Any]) -> list[str]:
    missing = [name for name in REQUIRED_FIELDS if name not in raw]
    if missing:
        return [f"{label}: missing required field(s) {', '.join(missing)}"]
    try:
        GoldenExample.model_validate(raw)
    except ValidationError as exc:
        return [
            f"{label}: {'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        ]
    return []


def _turn_problems(
    label: str, where: str, turn: GoldenTurn, route: str, catalogue: ToolCatalogue
) -> list[str]:
    problems = []
    known = catalogue.route_tools(route)
    for tool in turn.expected_tools:
        if tool not in known:
            problems.append(
                f"{label}: {where}expected tool {tool!r} is not in the {route} catalogue "
                f"({catalogue.source})"
            )
    if len(set(turn.expected_tools)) != len(turn.expected_tools):
        problems.append(f"{label}: {where}expected_tools repeats a tool")
    arguments = known.get(turn.expected_tools[0]) if turn.expected_tools else None
    for key, value in turn.expected_filters.items():
        if key.startswith("p_"):
            problems.append(f"{label}: {where}filter {key!r} must be named without the p_ prefix")
        elif arguments is not None and key not in arguments:
            problems.append(
                f"{label}: {where}filter {key!r} is not an argument of {turn.expected_tools[0]}"
            )
        if is_date_token(value):
            try:
                check_date_token(value)
            except DateTokenError as exc:
                problems.append(f"{label}: {where}filter {key!r}: {exc}")
    if turn.expected_filters and not turn.expected_tools:
        problems.append(f"{label}: {where}expected_filters given without an expected tool")
    return problems


def _rule_problems(label: str, example: GoldenExample, catalogue: ToolCatalogue) -> list[str]:
    problems = []
    if not _ID.match(example.id):
        problems.append(f"{label}: id must match {_ID.pattern}")
    if example.adversarial and not example.expected_refusal:
        problems.append(f"{label}: adversarial entries must expect a refusal")
    if example.expected_refusal and example.refusal_reason is None:
        problems.append(f"{label}: expected_refusal is true but refusal_reason is null")
    if not example.expected_refusal and example.refusal_reason is not None:
        problems.append(f"{label}: refusal_reason is set but expected_refusal is false")
    if example.refusal_reason in _TOOLLESS_REASONS and example.expected_tools:
        problems.append(
            f"{label}: a {example.refusal_reason} refusal happens before any tool; "
            "expected_tools must be empty"
        )
    if example.refusal_reason == "stale" and example.stale_minutes is None:
        problems.append(f"{label}: a stale refusal needs stale_minutes")
    asks = example.status() == "needs_input"
    if not example.expected_refusal and not asks and not example.expected_tools:
        problems.append(f"{label}: an answered question needs at least one expected tool")
    problems += _status_problems(label, example, catalogue)
    if example.turns and example.expected_refusal:
        problems.append(f"{label}: follow-up turns are only for answered questions")
    for number, turn in enumerate(example.all_turns()):
        where = f"turn {number + 1}: " if number else ""
        problems += _turn_problems(label, where, turn, example.expected_route, catalogue)
        if number and not example.expected_refusal and not turn.expected_tools:
            problems.append(f"{label}: {where}an answered turn needs at least one expected tool")
    return problems


def _status_problems(label: str, example: GoldenExample, catalogue: ToolCatalogue) -> list[str]:
    problems = []
    status, clarification = example.status(), example.expected_clarification
    if example.expected_status == "refused" and not example.expected_refusal:
        problems.append(f"{label}: expected_status refused needs expected_refusal true")
    if example.expected_status == "completed" and example.expected_refusal:
        problems.append(f"{label}: expected_status completed contradicts expected_refusal true")
    if status == "needs_input":
        if example.expected_refusal:
            problems.append(
                f"{label}: a needs_input run is not a refusal; expected_refusal must be false"
            )
        if example.expected_tools or example.expected_filters:
            problems.append(
                f"{label}: a needs_input run asks before any tool; "
                "expected_tools and expected_filters must be empty"
            )
        if clarification is None:
            problems.append(f"{label}: expected_status needs_input needs expected_clarification")
    elif clarification is not None:
        problems.append(f"{label}: expected_clarification is only for expected_status needs_input")
    if example.expected_answer_contains and status != "completed":
        problems.append(f"{label}: expected_answer_contains is only for completed runs")
    if clarification is not None:
        problems += _clarification_problems(label, example.expected_route, clarification, catalogue)
    return problems


def _clarification_problems(
    label: str, route: str, clarification: GoldenClarification, catalogue: ToolCatalogue
) -> list[str]:
    problems = []
    for name in clarification.unresolved_filters:
        if name not in FILTER_CONTRACT_ARGUMENTS:
            problems.append(f"{label}: unresolved filter {name!r} is not a shared filter")
    known = catalogue.route_tools(route)
    for tool in clarification.candidate_tools:
        if tool not in known:
            problems.append(
                f"{label}: candidate tool {tool!r} is not in the {route} catalogue "
                f"({catalogue.source})"
            )
    if clarification.reason == "unresolved_value" and not clarification.unresolved_filters:
        problems.append(f"{label}: an unresolved_value clarification names its unresolved_filters")
    if clarification.reason == "ambiguous_tool" and len(clarification.candidate_tools) < 2:
        problems.append(
            f"{label}: an ambiguous_tool clarification names at least 2 candidate_tools"
        )
    if clarification.reason == "ambiguous_tool" and clarification.unresolved_filters:
        problems.append(
            f"{label}: unresolved_filters are only for an unresolved_value clarification"
        )
    return problems


def validate_golden(raw: Any, catalogue: ToolCatalogue) -> list[GoldenExample]:
    """Every entry of `raw` as a `GoldenExample`, or `GoldenSetError` listing each problem."""
    if not isinstance(raw, list) or not raw:
        raise GoldenSetError(["the golden set must be a non-empty YAML list of entries"])
    problems: list[str] = []
    examples: list[GoldenExample] = []
    ids = Counter(entry.get("id") for entry in raw if isinstance(entry, dict))
    for index, entry in enumerate(raw):
        label = _label(index, entry)
        if not isinstance(entry, dict):
            problems.append(f"{label}: must be a mapping of fields, not {type(entry).__name__}")
            continue
        if entry.get("id") is not None and ids[entry["id"]] > 1:
            problems.append(f"{label}: duplicate id {entry['id']!r}")
        field_problems = _field_problems(label, entry)
        if field_problems:
            problems += field_problems
            continue
        example = GoldenExample.model_validate(entry)
        problems += _rule_problems(label, example, catalogue)
        examples.append(example)
    if problems:
        raise GoldenSetError(problems)
    return examples


def load_golden(path: Path, catalogue: ToolCatalogue) -> list[GoldenExample]:
    """Read and validate a golden-set YAML file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise GoldenSetError([f"{path}: cannot read the golden set: {exc}"]) from exc
    except yaml.YAMLError as exc:
        raise GoldenSetError([f"{path}: not valid YAML: {exc}"]) from exc
    return validate_golden(raw, catalogue)


def select_examples(examples: list[GoldenExample], only: list[str]) -> list[GoldenExample]:
    """The examples named by `--only`, in golden-set order; unknown ids are an error."""
    if not only:
        return examples
    known = {example.id for example in examples}
    unknown = sorted(set(only) - known)
    if unknown:
        raise GoldenSetError([f"--only names unknown id(s): {', '.join(unknown)}"])
    return [example for example in examples if example.id in set(only)]
