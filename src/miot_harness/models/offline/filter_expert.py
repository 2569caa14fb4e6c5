"""The filter expert seat: one tool and its arguments; or `tool: null`, with the candidate
tools when the question speaks of the operation but fits none clearly (or two about equally),
and alone when nothing in it does."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from langchain_core.messages import HumanMessage

from miot_harness.language.dates import resolve_dates
from miot_harness.language.normalise import fold
from miot_harness.language.question_flags import Paging, read_flags
from miot_harness.language.terms import terms
from miot_harness.language.words import is_common_word
from miot_harness.models.offline.catalog import ToolSpec
from miot_harness.models.offline.ordering import order_for_tool
from miot_harness.models.offline.prompt import SeatPrompt, message_text
from miot_harness.models.offline.ranking import (
    BREAKDOWN,
    LISTING,
    MIN_COVERAGE,
    ToolIndex,
    ToolScore,
    question_shapes,
    shape_terms,
)
from miot_harness.models.seat_protocol import (
    SECTION_PLAN,
    SECTION_PREVIOUS_PLAN,
    SECTION_TOOLS,
    FilterDecision,
)

# A clause of a compound question names its own tool only with a clear score.
CLAUSE_MIN_SCORE = 2.0
# A follow-up switches tool only when it names the new one this clearly ("¿y la cola crítica?").
SWITCH_MIN_SCORE = 4.0
_CLAUSE_SPLIT = re.compile(r"\s*(?:,|;|\by\b|\be\b|\bademas\b|\btambien\b|\band\b|\bplus\b)\s*")
_FOLLOW_UP = re.compile(
    r"^\W*(?:y|e|ahora|lo mismo|igual|solo|pero|tambien|and|what about|now|same)\b"
)
_DATE_ARGS = ("fecha_desde", "fecha_hasta", "fecha_tipo")
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
_NAME_WORD = re.compile(r"[^\W\d_]+")
_PAGE_ARGS = ("limit", "offset")
_ANY_TOOL_ARGS = frozenset({*_PAGE_ARGS, *_DATE_ARGS})


@dataclass(frozen=True)
class QuestionFilters:
    """Every filter the question states, the terms they used up, and any paging."""

    args: dict[str, Any]
    neutral: frozenset[str]
    paging: Paging
    enumerates: bool = False
    # Capitalised words that are no ordinary words: names the harness checks itself.
    names: str = ""


def requested_tools(
    question: str,
    index: ToolIndex,
    neutral: frozenset[str],
    filters: tuple[str, ...] = (),
    compound: bool = True,
) -> list[ToolScore]:
    """Tools the question asks for: the best overall, then any a separate clause names
    (not when `compound` is off: a list of one filter's values is one ask).

    A question made mostly of filter values ("servicios atrasados en Maipú") fits the best
    tool on coverage alone: the filters themselves show it is about the operation.
    """
    ranked = index.rank(question, neutral)
    best = ranked[0] if ranked else None
    if best is not None and not best.fits and filters:
        takes_filters = {t.name for t in index.tools if set(filters) <= set(t.properties)}
        loose = [s for s in ranked if s.name in takes_filters and s.score > 0]
        if loose and loose[0].coverage >= MIN_COVERAGE:
            best = loose[0]
            wanted = [best]
        else:
            wanted = []
    else:
        wanted = [best] if best is not None and best.fits else []
    owner = _sole_taker(index, filters)
    if owner is not None and (not wanted or wanted[0].name != owner):
        named = next(score for score in ranked if score.name == owner)
        wanted = [named, *(w for w in wanted if w.name != owner)]
    by_clause = clause_tools(question, index, neutral) if compound else []
    if len(by_clause) > 1:
        # A compound question asks in order: the first clause's tool is the primary one.
        return [*by_clause, *(w for w in wanted if all(w.name != c.name for c in by_clause))]
    return [*wanted, *(c for c in by_clause if all(c.name != w.name for w in wanted))]


def _is_follow_up(
    question: str, index: ToolIndex, neutral: frozenset[str], has_filters: bool, fits: bool
) -> bool:
    """ "¿y ayer?", "ahora solo para Valparaíso": a cue word, or only new filter values.

    A question with words no tool knows ("¿qué tiempo hará mañana en Santiago?") is a new
    question, even when it names a date and a place.
    """
    if _FOLLOW_UP.match(fold(question)):
        return True
    strangers = [
        t for t in index.question_terms(question) if t not in neutral and not index.knows(t)
    ]
    return has_filters and not fits and not strangers


def _sole_taker(index: ToolIndex, filters: tuple[str, ...]) -> str | None:
    """The one tool that takes an argument the question states (a servicio code names
    `servicio_detalle` whatever else the question says)."""
    for argument in filters:
        takers = [tool.name for tool in index.tools if argument in tool.properties]
        if len(takers) == 1 and len(index.tools) > 1:
            return takers[0]
    return None


def clause_tools(question: str, index: ToolIndex, neutral: frozenset[str]) -> list[ToolScore]:
    """The tool each clause of a compound question clearly names, in the order asked."""
    by_clause: list[ToolScore] = []
    for clause in _CLAUSE_SPLIT.split(fold(question)):
        if not terms(clause):
            continue
        ranked = index.rank(clause, neutral)
        top = ranked[0] if ranked else None
        fits = top is not None and top.fits and top.score >= CLAUSE_MIN_SCORE
        if fits and all(top.name != c.name for c in by_clause):
            by_clause.append(top)
    return by_clause


def _names(question: str, index: ToolIndex) -> str:
    """Capitalised words that are neither ordinary ones nor the tools' own ("Pepito", not
    "KPIs"): names the harness checks against the catalogue, so they never count against a
    tool."""
    return " ".join(
        word
        for word in _NAME_WORD.findall(question)
        if word[0].isupper()
        and not word.isupper()
        and not is_common_word(word)
        and not any(index.knows(t) for t in terms(word))
    )


def question_filters(prompt: SeatPrompt) -> QuestionFilters:
    """Every filter the question states, the terms those filters used up, and its paging."""
    _, index = prompt.tools
    extraction = prompt.matcher.match(prompt.question, index.speller.knows)
    args: dict[str, Any] = dict(extraction.args)
    flags = read_flags(prompt.question)
    args.update(flags.args)
    names = _names(prompt.question, index)
    consumed = [extraction.consumed(), flags.text, names]
    now = prompt.now
    if now is not None:
        dates = resolve_dates(prompt.question, now.date())
        args.update(dates.as_args())
        folded = fold(prompt.question)  # same length as the text the spans index
        consumed.extend(folded[start:end] for start, end in dates.spans)
    neutral = frozenset(terms(" ".join(consumed)))
    return QuestionFilters(args, neutral, flags.paging, extraction.enumerates, names)


def _accepted(tool: ToolSpec, args: dict[str, Any]) -> dict[str, Any]:
    """Only arguments the tool takes, and enum arguments only with an allowed value."""
    kept = {}
    for name, value in args.items():
        if not tool.accepts(name):
            continue
        allowed = tool.enums.get(name)
        if allowed and value not in allowed:
            continue
        kept[name] = value
    return kept


def _merge_follow_up(previous: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The previous arguments with what the follow-up changes (a new date replaces the range)."""
    merged = dict(previous)
    if any(key in new for key in _DATE_ARGS):
        for key in _DATE_ARGS:
            merged.pop(key, None)
    if "region" in new and "comuna" not in new:
        merged.pop("comuna", None)
    merged.update(new)
    return merged


def plan_tools(prompt: SeatPrompt) -> list[str]:
    steps = prompt.json_section(SECTION_PLAN)
    if not isinstance(steps, list):
        return []
    return [s["tool"] for s in steps if isinstance(s, dict) and isinstance(s.get("tool"), str)]


def _rationale(score: ToolScore, how: str) -> str:
    words = ", ".join(score.matched) or "sin términos"
    return f"{how}: coincide con {words} (puntaje {score.score:.2f})"


def _candidates(ranked: list[ToolScore], found: QuestionFilters) -> list[str]:
    """Tools the question's own words point to, when no tool fits: asked, not guessed.

    A date or a place alone points nowhere; a word of a tool, or a filter that names the
    operation (a client, a carrier, a state, a code), does. A name nothing matched is asked
    about first, by the harness, so it gets no candidates.
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
    if _DOMAIN_FILTERS & set(found.args):
        return [s.name for s in ranked if s.score > 0][:MAX_CANDIDATES]
    return []


def _tied(ranked: list[ToolScore], best: ToolScore) -> list[str]:
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


def _preferred(
    names: list[str],
    found: QuestionFilters,
    question: str,
    by_name: dict[str, ToolSpec],
    by_shape: bool = False,
) -> list[str]:
    """Of tools that fit about equally, those that take every filter the question states,
    and `by_shape`, unless it asks "por …", those grouped by the fewest filters ("% de
    atrasados" is one distribution, not one per comuna)."""
    stated = set(found.args) - _ANY_TOOL_ARGS
    kept = [n for n in names if stated <= set(by_name[n].properties)] or names
    breakdown = any(shape.startswith(BREAKDOWN) for shape in question_shapes(question))
    if by_shape and kept and not breakdown:
        narrowest = min(_grouping_width(by_name[n]) for n in kept)
        kept = [n for n in kept if _grouping_width(by_name[n]) == narrowest]
    return kept


def _grouping_width(tool: ToolSpec) -> int:
    """How many filters a tool's rows are grouped by (0: not a breakdown)."""
    if tool.output_columns and "codigo" not in tool.output_columns:
        return len(set(tool.output_columns) & set(tool.properties))
    return sum(1 for t in shape_terms(tool) if t.startswith(BREAKDOWN))


def _vague(
    best: ToolScore, plain: list[ToolScore], found: QuestionFilters, tools: list[ToolSpec]
) -> list[str]:
    """The tools a question's single word of the operation points to about equally, when
    nothing else (a second word, a "por …" or list cue, a filter of the operation) tells
    them apart; empty when the question is clear. Tools that return a column of that word
    ("conductor") point to it too, though their descriptions do not say it."""
    cues = [t for t in best.matched if t.startswith(BREAKDOWN) or t == LISTING]
    if found.names:
        return []
    content = {t for t in best.matched if t not in found.neutral and not t.startswith("·")}
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


def _paged(
    args: dict[str, Any], paging: Paging, previous: dict[str, Any], tool: ToolSpec
) -> dict[str, Any]:
    """Arguments with the page asked for: its size from this question, the previous page, or
    the tool's default; "the next ones" start where the previous page ended."""
    if not paging.asked or "offset" in args:
        return args
    default = tool.defaults.get("limit")
    size = args.get("limit") or previous.get("limit") or default
    if not isinstance(size, int):
        return args
    if paging.page is not None:
        offset = (paging.page - 1) * size
    else:
        shown = previous.get("limit") or default
        offset = int(previous.get("offset") or 0) + (shown if isinstance(shown, int) else size)
    return {**args, "limit": size, "offset": offset}


def decide(prompt: SeatPrompt) -> FilterDecision:
    tools, index = prompt.tools
    by_name = {tool.name: tool for tool in tools}
    found = question_filters(prompt)
    args, neutral = found.args, found.neutral
    wanted = requested_tools(
        prompt.question, index, neutral, tuple(args), compound=not found.enumerates
    )
    used = plan_tools(prompt)
    if used:
        return _next_step(wanted, used, index, by_name, args, prompt.question, neutral)
    previous = prompt.json_section(SECTION_PREVIOUS_PLAN)
    ranked = index.rank(prompt.question, neutral)
    best = wanted[0] if wanted else ranked[0] if ranked else None
    if not isinstance(previous, dict) and not wanted:
        previous = _earlier_plan(prompt)
    is_follow_up = isinstance(previous, dict) and previous.get("tool") in by_name
    if is_follow_up and (
        found.paging.asked
        or _is_follow_up(prompt.question, index, neutral, bool(args), bool(wanted))
    ):
        return _follow_up(previous, best, by_name, args, found.paging)
    if not wanted or best is None:
        candidates = _preferred(_candidates(ranked, found), found, prompt.question, by_name)
        strangers = [
            t
            for t in index.question_terms(prompt.question)
            if t not in neutral and not index.knows(t)
        ]
        if len(candidates) == 1 and len(strangers) <= MAX_STRANGERS:
            best = next(s for s in ranked if s.name == candidates[0])
        else:
            candidates = candidates if len(candidates) > 1 else []
            return FilterDecision(
                tool=None,
                candidates=candidates,
                rationale="Varias herramientas podrían responder; hay que preguntar cuál"
                if candidates
                else "Ninguna herramienta del catálogo responde la pregunta",
            )
    elif len(wanted) == 1 and (tied := _tied(ranked, best)):
        tied = _preferred(tied, found, prompt.question, by_name, by_shape=True)
        if len(tied) > 1:
            return FilterDecision(
                tool=None,
                candidates=tied,
                rationale="Dos herramientas responden casi igual; hay que preguntar cuál",
            )
        best = next(s for s in ranked if s.name == tied[0])
    elif len(wanted) == 1 and (
        vague := _vague(best, index.rank(prompt.question, neutral, shapes=False), found, tools)
    ):
        return FilterDecision(
            tool=None,
            candidates=vague,
            rationale="La pregunta nombra un tema que varias herramientas cubren; hay que "
            "preguntar cuál",
        )
    tool = by_name[best.name]
    return FilterDecision(
        tool=best.name,
        args=_paged(_accepted(tool, args), found.paging, {}, tool),
        order_by=order_for_tool(prompt.question, best.name, prompt.json_section(SECTION_TOOLS)),
        rationale=_rationale(best, "Mejor herramienta"),
    )


def _earlier_plan(prompt: SeatPrompt) -> dict[str, Any] | None:
    """The plan of the thread's earlier question when no plan was kept (it was asked back
    about, or it failed): a follow-up such as "solo Temuco" still completes it."""
    earlier = [m for m in prompt.history if isinstance(m, HumanMessage)]
    if not earlier:
        return None
    base = decide(replace(prompt, history=(), question=message_text(earlier[-1])))
    return {"tool": base.tool, "args": base.args} if base.tool else None


def _follow_up(
    previous: dict[str, Any],
    best: ToolScore | None,
    by_name: dict[str, ToolSpec],
    args: dict[str, Any],
    paging: Paging,
) -> FilterDecision:
    """The previous tool and arguments, changed only where the follow-up says so (a page
    continues from the previous one)."""
    tool_name = previous["tool"]
    how = "Seguimiento de la consulta anterior"
    if (
        not paging.asked
        and best
        and best.fits
        and best.score >= SWITCH_MIN_SCORE
        and best.name != tool_name
    ):
        tool_name, how = best.name, "Seguimiento con otra herramienta"
    previous_args = previous.get("args") or {}
    if not isinstance(previous_args, dict):
        previous_args = {}
    kept = {k: v for k, v in previous_args.items() if not (paging.asked and k in _PAGE_ARGS)}
    merged = _merge_follow_up(kept, args)
    tool = by_name[tool_name]
    changed = ", ".join(sorted(args)) or ("página" if paging.asked else "nada")
    return FilterDecision(
        tool=tool_name,
        args=_paged(_accepted(tool, merged), paging, previous_args, tool),
        rationale=f"{how} ({previous['tool']}); cambia: {changed}",
    )


def _next_step(
    wanted: list[ToolScore],
    used: list[str],
    index: ToolIndex,
    by_name: dict[str, ToolSpec],
    args: dict[str, Any],
    question: str,
    neutral: frozenset[str],
) -> FilterDecision:
    """A later turn of the same run: the best requested tool the plan has not used yet."""
    pending = [w for w in wanted if w.name not in used]
    if not pending:
        pending = [s for s in index.rank(question, neutral) if s.name not in used and s.score > 0]
    if not pending:
        return FilterDecision(tool=None, args={}, rationale="No queda otra herramienta pertinente")
    choice = pending[0]
    return FilterDecision(
        tool=choice.name,
        args=_accepted(by_name[choice.name], args),
        rationale=_rationale(choice, "Segunda parte de la pregunta"),
    )
