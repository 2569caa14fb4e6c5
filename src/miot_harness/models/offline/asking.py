"""When the offline filter expert asks instead of guessing: the candidate tools of a question
that fits none clearly, near ties on the same words, vague questions (one word of the
operation that several tools share) and questions with no evidence that sets the best tool
apart; and how a near tie is broken by what the question says.
"""

from __future__ import annotations

from collections.abc import Sequence

from miot_harness.language.terms import terms
from miot_harness.models.offline.catalog import ToolSpec
from miot_harness.models.offline.question_filters import QuestionFilters
from miot_harness.models.offline.ranking import (
    BREAKDOWN,
    LISTING,
    SHAPE_MARK,
    ToolScore,
    question_shapes,
    shape_terms,
)

# Arguments every tool takes: they never tell tools apart.
ANY_TOOL_ARGS = frozenset({"limit", "offset", "fecha_desde", "fecha_hasta", "fecha_tipo"})

# No tool fits, but these tools speak of what was asked: the harness asks which one.
MAX_CANDIDATES = 3
CANDIDATE_MIN_SCORE = 0.5
CANDIDATE_MIN_COVERAGE = 0.2
# The one tool a question's words point to is taken despite this many words no tool knows
# (slang, a stray word); more ("¿cuánto gana un conductor en Chile?") is another subject.
MAX_STRANGERS = 1
# Two fitting tools this close (second / best score), the second matching every term the
# best matches, are asked about, not guessed between.
TIE_RATIO = 0.9
# A question whose one word of the operation several tools share ("¿cómo andan los
# transportistas?") is vague unless the best tool scores this many times the next.
VAGUE_DOMINANCE = 1.6
# Filters that name the operation itself (a date or a place alone does not).
_DOMAIN_FILTERS = frozenset(
    {"cliente", "transportista", "centro", "canal", "tipo_servicio", "estado", "prioridad",
     "eta_clasificacion", "es_critico", "codigo", "patente", "conductor"}
)  # fmt: skip


def candidates(
    ranked: list[ToolScore], found: QuestionFilters, tools: Sequence[ToolSpec] = ()
) -> list[str]:
    """Tools the question's own words point to, when no tool fits: asked, not guessed.

    A date or a place alone points nowhere; a word of a tool, or a filter that names the
    operation (a client, a carrier, a state, a code), does: then the tools whose rows are
    grouped by that filter ("how is LogiAndes doing?": the carrier breakdowns). A name
    nothing matched is asked about first, by the harness, so it gets no candidates.
    """
    if found.names:
        return []
    speaks = [s for s in ranked if s.score > 0 and any(t not in found.neutral for t in s.matched)]
    if speaks:
        best = speaks[0]
        if best.score < CANDIDATE_MIN_SCORE or best.coverage < CANDIDATE_MIN_COVERAGE:
            return []
        near = [s for s in speaks if s.score >= best.score * CANDIDATE_MIN_SCORE]
        return [s.name for s in near[:MAX_CANDIDATES]]
    stated = _DOMAIN_FILTERS & set(found.args)
    if stated:
        grouped = [
            t.name for t in sorted(tools, key=_grouping_width) if stated & _grouping_columns(t)
        ]
        scored = [s.name for s in ranked if s.score > 0]
        return (grouped or scored)[:MAX_CANDIDATES]
    return []


def tied(ranked: list[ToolScore], best: ToolScore) -> list[str]:
    """The best tool and any other that fits about as well on the same words, best first."""
    tied = [
        s
        for s in ranked
        if s.name != best.name
        and s.fits
        and s.score >= best.score * TIE_RATIO
        and set(best.matched) <= set(s.matched)
    ]
    return [best.name, *(s.name for s in tied)][:MAX_CANDIDATES] if tied else []


def undistinguished(
    best: ToolScore,
    ranked: list[ToolScore],
    found: QuestionFilters,
    question: str,
    tools: Sequence[ToolSpec],
) -> list[str]:
    """The best tool and the others that take the question's filters and speak of it, when no
    evidence sets the best apart from them ("los atrasos de hoy"); empty when some does."""
    if found.names or found.typed or not best.matched:
        return []
    by_name = {tool.name: tool for tool in tools}
    stated = set(found.args) - ANY_TOOL_ARGS
    breakdown = any(shape.startswith(BREAKDOWN) for shape in question_shapes(question))
    # A word of the best tool's name sets it apart only when few tools speak of it: most
    # speak of "servicios", whichever has it in its name.
    rare = {t for t in best.matched if 2 * sum(t in s.matched for s in ranked) <= len(ranked)}
    alike = [
        s.name
        for s in ranked
        if s.name != best.name
        and s.score > 0
        and stated <= set(by_name[s.name].properties)
        and not _sets_apart(best, s, by_name, stated, breakdown, rare)
    ]
    return [best.name, *alike][:MAX_CANDIDATES] if alike else []


def _sets_apart(
    best: ToolScore,
    other: ToolScore,
    by_name: dict[str, ToolSpec],
    stated: set[str],
    breakdown: bool,
    rare: set[str],
) -> bool:
    """Whether the question holds evidence for the best tool that the other lacks (a term, a
    shape cue, a `rare` word of its name, a stated name its rows group by, or fewer groups)."""
    tool, other_tool = by_name[best.name], by_name[other.name]
    if set(best.matched) - set(other.matched):
        return True
    if (_name_terms(tool) - _name_terms(other_tool)) & rare:
        return True
    # A name filter says which row is asked about; an enum value ("atrasado") only filters.
    named = {f for f in stated if f not in tool.enums}
    if named & (_grouping_columns(tool) - _grouping_columns(other_tool)):
        return True
    # With no "por …" asked, one figure answers rather than one per carrier or comuna.
    summaries = LISTING not in shape_terms(tool) and LISTING not in shape_terms(other_tool)
    return summaries and not breakdown and _grouping_width(tool) < _grouping_width(other_tool)


def _name_terms(tool: ToolSpec) -> set[str]:
    """The terms of a tool's name without its prefix ("auditoria_pod"): what it is about."""
    return set(terms(tool.name.split("_", 1)[-1]))


def preferred(
    names: list[str],
    found: QuestionFilters,
    question: str,
    by_name: dict[str, ToolSpec],
    by_shape: bool = False,
) -> list[str]:
    """Of tools that fit about equally, those that take every filter the question states,
    and `by_shape`, unless it asks "por …", those grouped by the fewest filters ("% de
    atrasados" is one distribution, not one per comuna)."""
    stated = set(found.args) - ANY_TOOL_ARGS
    kept = [n for n in names if stated <= set(by_name[n].properties)] or names
    breakdown = any(shape.startswith(BREAKDOWN) for shape in question_shapes(question))
    if by_shape and kept and not breakdown:
        narrowest = min(_grouping_width(by_name[n]) for n in kept)
        kept = [n for n in kept if _grouping_width(by_name[n]) == narrowest]
    return kept


def _grouping_columns(tool: ToolSpec) -> set[str]:
    """The filters a tool's rows are grouped by (none for a listing of servicios)."""
    if "codigo" in tool.output_columns:
        return set()
    return set(tool.output_columns) & set(tool.properties)


def _grouping_width(tool: ToolSpec) -> int:
    """How many filters a tool's rows are grouped by (0: not a breakdown)."""
    if tool.output_columns and "codigo" not in tool.output_columns:
        return len(_grouping_columns(tool))
    return sum(1 for t in shape_terms(tool) if t.startswith(BREAKDOWN))


def vague(
    best: ToolScore, plain: list[ToolScore], found: QuestionFilters, tools: list[ToolSpec]
) -> list[str]:
    """The tools a question's single word of the operation points to about equally, when
    nothing else (a second word, a "por …" or list cue, a filter of the operation) tells
    them apart; empty when the question is clear. Tools that return a column of that word
    ("conductor") point to it too, though their descriptions do not say it."""
    cues = [t for t in best.matched if t.startswith(BREAKDOWN) or t == LISTING]
    if found.names:
        return []
    content = {t for t in best.matched if t not in found.neutral and not t.startswith(SHAPE_MARK)}
    if cues or len(content) != 1 or _DOMAIN_FILTERS & set(found.args):
        return []
    (word,) = content
    # By the words alone: a count cue's own shape term must not make its tool look clear.
    sharing = [s for s in plain if word in s.matched and s.score > 0]
    if len(sharing) >= 2:
        if sharing[1].score * VAGUE_DOMINANCE < sharing[0].score:
            return []
        return [s.name for s in sharing[:MAX_CANDIDATES]]
    returning = [
        t.name
        for t in tools
        if t.name != best.name and any(word in terms(c) for c in t.output_columns)
    ]
    return [best.name, *returning][:MAX_CANDIDATES] if returning else []
