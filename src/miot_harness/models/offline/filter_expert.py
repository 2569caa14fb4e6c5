"""The filter expert seat: one tool and its arguments; or `tool: null`, with the candidate
tools when the question speaks of the operation but fits none clearly (or two about equally),
and alone when nothing in it does."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from langchain_core.messages import HumanMessage

from miot_harness.language.normalise import fold
from miot_harness.language.question_flags import Paging
from miot_harness.language.terms import terms
from miot_harness.models.offline.asking import (
    MAX_STRANGERS,
    candidates,
    preferred,
    tied,
    undistinguished,
    vague,
)
from miot_harness.models.offline.catalog import ToolSpec
from miot_harness.models.offline.ordering import asks_ranking, order_for_tool
from miot_harness.models.offline.prompt import SeatPrompt, message_text
from miot_harness.models.offline.question_filters import question_filters
from miot_harness.models.offline.ranking import MIN_COVERAGE, SHAPE_MARK, ToolIndex, ToolScore
from miot_harness.models.seat_protocol import (
    SECTION_PLAN,
    SECTION_PREVIOUS_PLAN,
    SECTION_TOOLS,
    FilterDecision,
)
from miot_harness.schemas import OrderBy

# A clause of a compound question names its own tool only with a clear score.
CLAUSE_MIN_SCORE = 2.0
# A follow-up switches tool only when it names the new one this clearly ("¿y la cola crítica?").
SWITCH_MIN_SCORE = 4.0
_CLAUSE_SPLIT = re.compile(r"\s*(?:,|;|\by\b|\be\b|\bademas\b|\btambien\b|\band\b|\bplus\b)\s*")
_FOLLOW_UP = re.compile(
    r"^\W*(?:y|e|ahora|lo mismo|igual|solo|pero|tambien|and|what about|now|same)\b"
)
_DATE_ARGS = ("fecha_desde", "fecha_hasta", "fecha_tipo")
_PAGE_ARGS = ("limit", "offset")


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
    if wanted and _covers(wanted[0], by_clause):
        # "qué transportistas y clientes hay": one tool speaks of every clause's words.
        by_clause = []
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


def _covers(best: ToolScore, by_clause: list[ToolScore]) -> bool:
    """Whether the whole question's tool matches every word each clause's tool matched."""
    said = {t for clause in by_clause for t in clause.matched if not t.startswith(SHAPE_MARK)}
    return len(by_clause) > 1 and best.fits and said <= set(best.matched)


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
    # A tool whose required arguments the question does not give cannot answer it.
    runnable = {t.name for t in tools if set(t.required) <= set(args)}
    wanted = [w for w in wanted if w.name in runnable]
    ranked = [s for s in index.rank(prompt.question, neutral) if s.name in runnable]
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
        asked = preferred(candidates(ranked, found, tools), found, prompt.question, by_name)
        asked = _rankers(asked, prompt)
        strangers = [
            t
            for t in index.question_terms(prompt.question)
            if t not in neutral and not index.knows(t)
        ]
        if len(asked) == 1 and len(strangers) <= MAX_STRANGERS:
            best = next(s for s in ranked if s.name == asked[0])
        else:
            asked = asked if len(asked) > 1 else []
            return FilterDecision(
                tool=None,
                candidates=asked,
                rationale="Varias herramientas podrían responder; hay que preguntar cuál"
                if asked
                else "Ninguna herramienta del catálogo responde la pregunta",
            )
    elif len(wanted) == 1 and (near := tied(ranked, best)):
        near = _rankers(preferred(near, found, prompt.question, by_name, by_shape=True), prompt)
        if len(near) > 1:
            return FilterDecision(
                tool=None,
                candidates=near,
                rationale="Dos herramientas responden casi igual; hay que preguntar cuál",
            )
        best = next(s for s in ranked if s.name == near[0])
    elif len(wanted) == 1 and (
        unclear := vague(best, index.rank(prompt.question, neutral, shapes=False), found, tools)
    ):
        unclear = _rankers(preferred(unclear, found, prompt.question, by_name), prompt)
        if len(unclear) > 1:
            return FilterDecision(
                tool=None,
                candidates=unclear,
                rationale="La pregunta nombra un tema que varias herramientas cubren; hay que "
                "preguntar cuál",
            )
        best = next((s for s in ranked if s.name == unclear[0]), best)
    elif len(wanted) == 1 and (
        alike := undistinguished(best, ranked, found, prompt.question, tools)
    ):
        alike = _rankers(preferred(alike, found, prompt.question, by_name), prompt)
        if len(alike) > 1:
            return FilterDecision(
                tool=None,
                candidates=alike,
                rationale="Ninguna palabra de la pregunta distingue una herramienta de las "
                "otras; hay que preguntar cuál",
            )
        best = next(s for s in ranked if s.name == alike[0])
    best, order = _ranking_tool(prompt.question, best, ranked, prompt.json_section(SECTION_TOOLS))
    tool = by_name[best.name]
    return FilterDecision(
        tool=best.name,
        args=_paged(_accepted(tool, args), found.paging, {}, tool),
        order_by=order,
        rationale=_rationale(best, "Mejor herramienta"),
    )


def _rankers(names: list[str], prompt: SeatPrompt) -> list[str]:
    """Of tools that fit about equally, those with a column to order a ranking question by
    ("¿cuál es la peor comuna?": the torre, not the catalogue); all when none has one."""
    if not asks_ranking(prompt.question):
        return names
    section = prompt.json_section(SECTION_TOOLS)
    able = [name for name in names if order_for_tool(prompt.question, name, section)]
    return able or names


def _ranking_tool(
    question: str, best: ToolScore, ranked: list[ToolScore], tools_section: Any
) -> tuple[ToolScore, OrderBy | None]:
    """The chosen tool and its order. A ranking the chosen tool has no column to order by
    (a reference list) goes to the best fitting tool that has one and matches every word the
    chosen tool matched: only a shape cue ("¿en qué comuna hay…?") had set them apart."""
    order = order_for_tool(question, best.name, tools_section)
    if order is not None or not asks_ranking(question):
        return best, order
    words = {t for t in best.matched if not t.startswith(SHAPE_MARK)}
    for score in ranked:
        if score.name == best.name or not score.fits or not words <= set(score.matched):
            continue
        order = order_for_tool(question, score.name, tools_section)
        if order is not None:
            return score, order
    return best, None


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
