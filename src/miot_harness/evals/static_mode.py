"""`--mode static`: the golden set's validity and coverage, with no database and no model."""

from __future__ import annotations

from collections import Counter
from typing import Any

from miot_harness.evals.catalogue import ToolCatalogue
from miot_harness.evals.golden import GoldenExample


def golden_coverage(examples: list[GoldenExample], catalogue: ToolCatalogue) -> dict[str, Any]:
    """How many entries exercise each catalogue tool, refusal reason and filter kind."""
    tools: Counter[str] = Counter()
    filters: set[str] = set()
    for example in examples:
        for turn in example.all_turns():
            tools.update(turn.expected_tools)
            filters.update(turn.expected_filters)
    every_tool = [*catalogue.nexo_tools, *catalogue.storytelling_tools]
    return {
        "examples": len(examples),
        "catalogue": catalogue.source,
        "tools": {tool: tools[tool] for tool in every_tool},
        "refusal_reasons": dict(
            sorted(Counter(e.refusal_reason for e in examples if e.refusal_reason).items())
        ),
        "filters": sorted(filters),
        "two_tool": sum(1 for e in examples if len(e.expected_tools) > 1),
        "follow_ups": sum(1 for e in examples if e.turns),
        "adversarial": sum(1 for e in examples if e.adversarial),
        "storytelling": sum(1 for e in examples if e.expected_route == "storytelling"),
        "english": sum(1 for e in examples if "english" in e.tags),
        "stale": sum(1 for e in examples if e.stale_minutes is not None),
    }
