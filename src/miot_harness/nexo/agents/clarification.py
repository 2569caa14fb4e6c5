"""The questions the harness asks back: which value was meant, or which query.

A clarification names what matched nothing (or which queries fit), offers options whose
`message` is a ready question, and leaves a `PendingClarification` on the thread so that the
next message (an option's message, "la segunda", the corrected name) completes the original
question with its other filters kept, without another model call.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field
from rapidfuzz import fuzz

from miot_harness.language.normalise import fold_phrase
from miot_harness.nexo.agents.filter_values import (
    MAX_SUGGESTIONS,
    NAME_FILTERS,
    catalogue_spellings,
    match_key,
    part_spellings,
    resolve_value,
    suggestions,
)
from miot_harness.nexo.agents.question_names import NameMention, name_filter
from miot_harness.schemas import (
    Clarification,
    ClarificationOption,
    ClarificationReason,
    UnresolvedValue,
)

MAX_OPTIONS = 3
# Filters whose value a model may not put in the question's place: a place may be inferred
# (a comuna's region), a company or a centre may not.
GROUNDED_FILTERS = ("cliente", "transportista", "centro", "comuna")
GROUNDED_MIN_RATIO = 88.0
ANCHOR_MIN_RATIO = 80.0
MAX_SPAN_REACH = 2
_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
MAX_LABEL_WORDS = 8
# "quise decir TransRápido", "era Cóndor": a correction is short.
MAX_CORRECTION_WORDS = 5
# What each filter's values are called in the answer (plural).
FILTER_NOUNS: dict[str, str] = {
    "cliente": "clientes", "transportista": "transportistas", "centro": "centros",
    "comuna": "comunas", "region": "regiones", "canal": "canales",
    "tipo_servicio": "tipos de servicio", "estado": "estados", "prioridad": "prioridades",
    "eta_clasificacion": "clasificaciones de ETA",
}  # fmt: skip
_ORDINALS = {
    "primera": 0, "primero": 0, "1": 0, "uno": 0, "first": 0,
    "segunda": 1, "segundo": 1, "2": 1, "dos": 1, "second": 1,
    "tercera": 2, "tercero": 2, "3": 2, "tres": 2, "third": 2,
    "cuarta": 3, "cuarto": 3, "4": 3, "cuatro": 3,
}  # fmt: skip
_ORDINAL_FILLERS = frozenset({"la", "el", "lo", "opcion", "option", "numero", "nro", "the"})
_WIDEN_LABEL = "Sin filtrar por {noun}"


class PendingClarification(BaseModel):
    """What a thread remembers of a question it asked back about."""

    question: str
    reason: ClarificationReason
    tool: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    unresolved: list[UnresolvedValue] = Field(default_factory=list)
    # Per option, in order: the tool it picks, or the value it gives the first unresolved
    # filter (None: drop that filter).
    option_tools: list[str] = Field(default_factory=list)
    option_values: list[str | None] = Field(default_factory=list)
    options: list[ClarificationOption] = Field(default_factory=list)

    def clarification(self) -> Clarification:
        return Clarification(reason=self.reason, unresolved=self.unresolved, options=self.options)


class Resumed(BaseModel):
    """A pending question completed: its tool (None: plan it again) and arguments."""

    tool: str | None
    args: dict[str, Any]
    question: str


def unresolved_names(
    mentions: list[NameMention],
    values: dict[str, Any],
    question: str,
    grouping: tuple[str, ...] = (),
) -> list[UnresolvedValue]:
    """The question's names that no catalogue value of their filter (or any, uncued) matches;
    `grouping`: the name filters the chosen tool's rows are grouped by."""
    found: list[UnresolvedValue] = []
    every = {kind: catalogue_spellings(kind, values) or {} for kind in NAME_FILTERS}
    for mention in mentions:
        if not any(every.values()):
            continue  # no catalogue to judge against: nothing to ask
        # A value of another filter is still a value ("los transportistas de la Región del
        # Biobío"): the model maps it; only a name nothing matches is asked about.
        if any(resolve_value(mention.text, table) for table in every.values() if table):
            continue
        kinds = [mention.filter] if mention.filter in every else list(NAME_FILTERS)
        tables = {kind: every[kind] for kind in kinds}
        found.append(_unresolved_mention(mention, tables, question, grouping))
    return found


def _unresolved_mention(
    mention: NameMention,
    tables: dict[str, dict[str, str]],
    question: str,
    grouping: tuple[str, ...],
) -> UnresolvedValue:
    ranked = {kind: suggestions(mention.text, table) for kind, table in tables.items() if table}
    kind = mention.filter
    if kind is None:
        before = question[: question.find(mention.text)]
        nearest = [k for k, found in ranked.items() if found]
        kind = name_filter(mention.text, before, tables, grouping) or (
            nearest[0] if nearest else "cliente"
        )
    return UnresolvedValue(filter=kind, text=mention.text, suggestions=ranked.get(kind, []))


def merge_unresolved(*groups: list[UnresolvedValue]) -> list[UnresolvedValue]:
    """One entry per text: a name the model also proposed is reported once."""
    merged: list[UnresolvedValue] = []
    for item in (item for group in groups for item in group):
        key = match_key(item.text)
        if any(key in match_key(seen.text) or match_key(seen.text) in key for seen in merged):
            continue
        merged.append(item)
    return merged


def _replace(question: str, text: str, value: str) -> str:
    """The question with `text` replaced by `value` (case and accents ignored)."""
    start = fold_phrase(question).find(fold_phrase(text))
    if start < 0 or len(fold_phrase(question)) != len(question):
        return f"{question} ({value})"
    return question[:start] + value + question[start + len(text) :]


def ask_for_value(
    question: str, tool: str | None, args: dict[str, Any], unresolved: list[UnresolvedValue]
) -> PendingClarification:
    """Which value was meant: the first unmatched name's suggestions, or no such filter."""
    first = unresolved[0]
    # A filter being asked about keeps no value meanwhile (a model's substitute included).
    asked = {item.filter for item in unresolved}
    args = {name: value for name, value in args.items() if name not in asked}
    option_values: list[str | None] = list(first.suggestions[:MAX_OPTIONS])
    options = [
        ClarificationOption(label=value, message=_replace(question, first.text, value))
        for value in first.suggestions[:MAX_OPTIONS]
    ]
    widen = _WIDEN_LABEL.format(noun=first.filter.replace("_", " "))
    options.append(ClarificationOption(label=widen, message=f"{question} ({widen.lower()})"))
    option_values.append(None)
    return PendingClarification(
        question=question,
        reason=ClarificationReason.UNRESOLVED_VALUE,
        tool=tool,
        args=args,
        unresolved=unresolved,
        option_values=option_values,
        options=options,
    )


def ask_for_tool(
    question: str, tools: list[tuple[str, str]], args: dict[str, Any]
) -> PendingClarification:
    """Which query was meant; `tools` are (name, operator label) pairs, best first."""
    chosen = tools[:MAX_OPTIONS]
    return PendingClarification(
        question=question,
        reason=ClarificationReason.AMBIGUOUS_TOOL,
        args=args,
        option_tools=[name for name, _ in chosen],
        options=[
            ClarificationOption(label=label, message=f"{label.split(':')[0]}: {question}")
            for _, label in chosen
        ],
    )


def answer_text(pending: PendingClarification) -> str:
    """The clarification in Spanish prose: what matched nothing, and the options."""
    if pending.reason is ClarificationReason.AMBIGUOUS_TOOL:
        lines = ["Tu pregunta calza con más de una consulta. ¿Te refieres a…?"]
    else:
        lines = [_unmatched_sentence(item) for item in pending.unresolved]
        lines.append("¿Cómo sigo?")
    lines.extend(f"{i}. {option.label}" for i, option in enumerate(pending.options, start=1))
    # A blank line ends the Markdown list, so the prompt is not read as part of the last option.
    lines.extend(["", "Responde con el número, el nombre correcto o la pregunta completa."])
    return "\n".join(lines)


def _unmatched_sentence(item: UnresolvedValue) -> str:
    noun = FILTER_NOUNS.get(item.filter, item.filter)
    sentence = f"No encontré «{item.text}» entre los {noun} del catálogo"
    if item.suggestions:
        near = ", ".join(item.suggestions)
        return f"{sentence}; los más parecidos son: {near}."
    return f"{sentence}, ni nada parecido."


def resume(pending: PendingClarification, message: str, values: dict[str, Any]) -> Resumed | None:
    """The original question completed by `message`, or None when it answers nothing."""
    index = _chosen_option(pending, message)
    if pending.reason is ClarificationReason.AMBIGUOUS_TOOL:
        if index is None or index >= len(pending.option_tools):
            return None
        return Resumed(
            tool=pending.option_tools[index], args=pending.args, question=pending.question
        )
    first = pending.unresolved[0]
    target = first.filter
    if index is not None and index < len(pending.option_values):
        value = pending.option_values[index]
    elif len(message.split()) <= MAX_CORRECTION_WORDS:
        corrected = _corrected_value(message, first.filter, values)
        if corrected is None:
            return None
        target, value = corrected
    else:
        return None  # a longer message is a new question, planned as such
    args = dict(pending.args)
    if value is not None:
        args[target] = value
    question = (
        _replace(pending.question, first.text, value) if value is not None else pending.question
    )
    if len(pending.unresolved) > 1 or pending.tool is None:
        return Resumed(tool=None, args=args, question=question)
    return Resumed(tool=pending.tool, args=args, question=question)


def _corrected_value(message: str, asked: str, values: dict[str, Any]) -> tuple[str, str] | None:
    """The filter and value a correction names: of the filter asked about first, else of
    any ("quise decir Ruta Sur" after a guess that the name was a client's)."""
    for name in dict.fromkeys([asked, *NAME_FILTERS]):
        value = _named_value(message, catalogue_spellings(name, values) or {})
        if value is not None:
            return name, value
    return None


def _chosen_option(pending: PendingClarification, message: str) -> int | None:
    said = fold_phrase(message).strip(" ¿?¡!.")
    for i, option in enumerate(pending.options):
        if said in (fold_phrase(option.message).strip(" ¿?¡!."), fold_phrase(option.label)):
            return i
    words = re.findall(r"[a-z0-9ñ]+", said)
    picked = [_ORDINALS[w] for w in words if w in _ORDINALS]
    # "la segunda", "opción 2": only ordinals and their fillers, so "top 3" is not a choice.
    if picked and all(w in _ORDINALS or w in _ORDINAL_FILLERS for w in words):
        return picked[0]
    return None


def _named_value(message: str, table: dict[str, str]) -> str | None:
    """A catalogue value the message names, whole or in its words ("quise decir TransRápido")."""
    if not table:
        return None
    if found := resolve_value(message, table):
        return found
    tokens = message.split()
    for size in range(min(4, len(tokens)), 0, -1):
        for start in range(len(tokens) - size + 1):
            if found := resolve_value(
                " ".join(tokens[start : start + size]).strip("¿?¡!.,"), table
            ):
                return found
    return None


def operator_label(title: str, description: str) -> str:
    """ "Cola crítica: servicios que necesitan atención ahora": a tool in its own words."""
    body = description.split(title, 1)[1] if title and title in description else ""
    detail = re.split(r"[(.:;\n]", body.lstrip(" :"), maxsplit=1)[0].split()
    shown = " ".join(detail[:MAX_LABEL_WORDS]) + ("…" if len(detail) > MAX_LABEL_WORDS else "")
    return f"{title}: {shown.strip(' ,')}" if detail else title


def _grounded(
    value: str, spellings: dict[str, str], question: str, is_filler: Callable[[str], bool]
) -> bool:
    """Whether the question names `value`: one of its spellings (typos allowed), or a part of
    it standing alone ("pehuén", "en Viña"). A part next to words of another name
    ("farmacias ahumada", "Blue Express") names that other one."""
    question_key = match_key(question)
    names = [s for s, canonical in spellings.items() if canonical == value]
    if any(
        re.search(rf"(?<!\w){re.escape(name)}(?!\w)", question_key)
        or fuzz.partial_ratio(name, question_key) >= GROUNDED_MIN_RATIO
        for name in names
    ):
        return True
    value_words = set(match_key(value).split())
    tokens = _WORD.findall(question)
    keys = [match_key(token) for token in tokens]
    for part in (p for p, canonical in part_spellings(spellings).items() if canonical == value):
        size = len(part.split())
        for i in range(len(keys) - size + 1):
            if " ".join(keys[i : i + size]) != part:
                continue
            neighbours = [j for j in (i - 1, i + size) if 0 <= j < len(tokens)]
            if all(keys[j] in value_words or is_filler(tokens[j]) for j in neighbours):
                return True
    return False


def _span_near(value: str, question: str, is_filler: Callable[[str], bool]) -> str | None:
    """The question's words where it seems to name something like `value` ("farmacias
    ahumada" for "Farmacias Cordillera"), or None when nothing there resembles it."""
    tokens = _WORD.findall(question)
    value_words = match_key(value).split()
    anchors = [
        i
        for i, token in enumerate(tokens)
        if any(fuzz.ratio(match_key(token), word) >= ANCHOR_MIN_RATIO for word in value_words)
    ]
    if not anchors:
        return None
    start = end = anchors[0]
    while start > 0 and anchors[0] - start < MAX_SPAN_REACH and not is_filler(tokens[start - 1]):
        start -= 1
    while (
        end + 1 < len(tokens)
        and end - anchors[0] < MAX_SPAN_REACH
        and not is_filler(tokens[end + 1])
    ):
        end += 1
    return " ".join(tokens[start : end + 1]) if end > start else None


def ungrounded_values(
    args: dict[str, Any],
    question: str,
    values: dict[str, Any],
    carried: dict[str, Any],
    is_filler: Callable[[str], bool],
) -> list[UnresolvedValue]:
    """Company, carrier, centre and comuna values a model chose that the question does not
    name ("Farmacias Cordillera" for "farmacias ahumada"): a substitution, reported with the
    words the question used instead. Values carried from the thread's last plan are named."""
    found: list[UnresolvedValue] = []
    for name in GROUNDED_FILTERS:
        value = args.get(name)
        if not isinstance(value, str) or carried.get(name) == value:
            continue
        spellings = catalogue_spellings(name, values) or {}
        if not spellings or _grounded(value, spellings, question, is_filler):
            continue
        text = _span_near(value, question, is_filler)
        if text is not None:
            # The model's own pick is offered first: it may be what the user meant.
            near = [value, *(v for v in suggestions(text, spellings) if v != value)]
            found.append(
                UnresolvedValue(filter=name, text=text, suggestions=near[:MAX_SUGGESTIONS])
            )
    return found
