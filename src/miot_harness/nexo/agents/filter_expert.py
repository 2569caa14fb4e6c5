"""`filter_expert`: one `coordinador_*` tool and its filters per turn, appended to the plan."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from pydantic import ValidationError

from miot_harness.events import HarnessEventType, make_event
from miot_harness.language.words import words
from miot_harness.models.seat_protocol import FilterDecision, parse_reply
from miot_harness.models.usage import ModelCallError, ModelReply
from miot_harness.nexo.agents.calls import seat_call
from miot_harness.nexo.agents.clarification import (
    PendingClarification,
    Resumed,
    answer_text,
    ask_for_tool,
    ask_for_value,
    merge_unresolved,
    operator_label,
    resume,
    ungrounded_values,
    unresolved_names,
)
from miot_harness.nexo.agents.deps import NexoDeps
from miot_harness.nexo.agents.domain_signal import DomainVocabulary, domain_vocabulary
from miot_harness.nexo.agents.events import NodeEvents
from miot_harness.nexo.agents.filter_values import resolve_args
from miot_harness.nexo.agents.prompts import (
    now_section,
    openai_tools,
    plan_section,
    previous_plan_section,
    seat_body,
    tool_title,
    tools_section,
    values_section,
)
from miot_harness.nexo.agents.question_names import find_names, grouping_names
from miot_harness.nexo.state import NexoFailure, NexoPlan, NexoState, NexoStep
from miot_harness.schemas import UnresolvedValue
from miot_harness.tools import HarnessTool

log = logging.getLogger(__name__)

SEAT = "filter_expert"
OUT_OF_SCOPE_MESSAGE = (
    "Esa pregunta no corresponde a ninguna de las consultas de Coordinador que puedo hacer "
    "(servicios, ETA, POD, transportistas, centros y su dimensionamiento). ¿Puedes reformularla?"
)


def parse_decision(reply: ModelReply) -> FilterDecision | None:
    """A `tool_calls` answer wins over JSON text; fenced JSON is accepted; None if unreadable."""
    from_text = parse_reply(reply.text, FilterDecision)
    if reply.message.tool_calls:
        call = reply.message.tool_calls[0]
        rationale = from_text.rationale if from_text is not None else reply.text.strip()
        args = dict(call.get("args") or {})
        # A ranking order rides in the call's arguments or in the JSON text beside the call.
        order_by = args.pop("order_by", None) or (from_text.order_by if from_text else None)
        try:
            return FilterDecision(
                tool=call["name"], args=args, order_by=order_by, rationale=rationale
            )
        except ValidationError:
            return None
    return from_text


async def _catalog_values(deps: NexoDeps) -> dict[str, Any]:
    try:
        return await deps.catalog_values()
    except Exception:
        # The catalogue only improves spelling; the plan can still be made without it.
        log.warning("catalogue values unavailable; filters are not normalised", exc_info=True)
        return {}


def _invalid(message: str, turn: int, events: NodeEvents) -> dict[str, Any]:
    failure = NexoFailure(kind="invalid_plan", message=f"No pude planificar la consulta: {message}")
    return events.delta(failure=failure, next_action=None, turn_count=turn)


def _clarify(pending: PendingClarification, turn: int, events: NodeEvents) -> dict[str, Any]:
    """End the run asking the user; the thread keeps what the answer will complete."""
    failure = NexoFailure(
        kind="needs_input", message=answer_text(pending), clarification=pending.clarification()
    )
    return events.delta(
        failure=failure,
        next_action=None,
        turn_count=turn,
        pending_clarification=pending.model_dump(mode="json"),
    )


def _pending(state: NexoState) -> PendingClarification | None:
    raw = state.get("pending_clarification")
    try:
        return PendingClarification.model_validate(raw) if raw else None
    except ValidationError:
        return None


def _tool_options(names: list[str], tools: dict[str, HarnessTool]) -> list[tuple[str, str]]:
    return [
        (name, operator_label(tool_title(tools[name].description), tools[name].description))
        for name in names
        if name in tools
    ]


@dataclass(frozen=True)
class _Reading:
    """What the harness itself reads in a question: the names nothing matched, and whether
    the rest of it speaks of the operation."""

    unmatched: list[UnresolvedValue]
    signal: bool

    @property
    def near_miss(self) -> bool:
        """A name close to a catalogue value ("Chilexpress"): a question about the operation."""
        return any(item.suggestions for item in self.unmatched)


def _read(
    question: str,
    vocabulary: DomainVocabulary,
    values: dict[str, Any],
    tool: HarnessTool | None = None,
) -> _Reading:
    """`tool`: the chosen one, whose grouping tells what an unlabelled unknown name is."""
    mentions = find_names(question, vocabulary.is_domain_word)
    signal = vocabulary.has_signal(question, ignore=[m.text for m in mentions])
    grouping = grouping_names(tool.output_columns, tool.input_model.model_fields) if tool else ()
    return _Reading(unresolved_names(mentions, values, question, grouping), signal)


def _without_tool(
    decision: FilterDecision,
    question: str,
    reading: _Reading,
    vocabulary: DomainVocabulary,
    tools: dict[str, HarnessTool],
) -> PendingClarification | None:
    """No tool chosen: ask about an unmatched name, or between the candidates, or between the
    tools the question's words point to; None when nothing in it speaks of the operation."""
    candidates = _tool_options(decision.candidates, tools)
    # An unmatched name first: which query fits may be plain once the name is right.
    if reading.unmatched and (reading.signal or reading.near_miss or candidates):
        return ask_for_value(question, None, {}, reading.unmatched)
    if candidates:
        return ask_for_tool(question, candidates, {})
    if not reading.signal:
        return None
    ranked = _tool_options(vocabulary.ranked_tools(question), tools)
    return ask_for_tool(question, ranked, {}) if ranked else None


def _names_a_tool(item: UnresolvedValue, vocabulary: DomainVocabulary) -> bool:
    """A value made of the tools' own words ("contol" from "centro de contol") is a model
    reading the query's name as a filter, not a name the user gave."""
    found = words(item.text)
    return bool(found) and all(vocabulary.is_domain_word(word) for word in found)


def _off_topic(state: NexoState, reading: _Reading) -> bool:
    """A new question naming only things the catalogue lacks, near none of its values, with
    no word of the operation ("¿quién ganó el partido de Colo-Colo?"): whatever tool a model
    picked, it is not about the operation."""
    return (
        bool(reading.unmatched)
        and not reading.signal
        and not reading.near_miss
        and not state.get("last_plan")
    )


def _resumed_step(resumed: Resumed, deps: NexoDeps, values: dict[str, Any]) -> NexoStep | None:
    tool = deps.registry.get(resumed.tool) if resumed.tool else None
    if tool is None:
        return None
    args = resolve_args(resumed.args, tool.input_model, values).args
    return NexoStep(tool=tool.name, args=args, rationale="Respuesta a la aclaración pedida")


def _planned(plan: NexoPlan, step: NexoStep, turn: int, events: NodeEvents) -> dict[str, Any]:
    try:
        new_plan = NexoPlan(steps=[*plan.steps, step])
    except ValidationError:
        failure = NexoFailure(
            kind="plan_cap", message="El plan alcanzó su máximo de pasos; respondo con lo reunido."
        )
        return events.delta(failure=failure, next_action="ready_to_synthesize", turn_count=turn)
    if len(new_plan.steps) == 1:
        events(make_event(HarnessEventType.PLAN_CREATED, SEAT, steps=[step.model_dump()]))
    return events.delta(
        plan=new_plan, next_action="fetch", turn_count=turn, pending_clarification=None
    )


async def filter_expert(state: NexoState, deps: NexoDeps) -> dict[str, Any]:
    """Ask the seat's model for the next step; always replaces `next_action`.

    The first turn may instead complete a question the thread asked back about (no model
    call), or end the run asking: a name nothing matched, or which of several queries.
    """
    events = NodeEvents()
    turn = state.get("turn_count", 0) + 1
    plan = state.get("plan") or NexoPlan()
    first_turn = not plan.steps
    prefix = deps.settings.nexo_tool_prefix
    tools = deps.registry.with_prefix(prefix)
    values = await _catalog_values(deps)
    question = state.get("question", "")
    pending = _pending(state) if first_turn else None
    resumed = resume(pending, question, values) if pending is not None else None
    if resumed is not None:
        if (step := _resumed_step(resumed, deps, values)) is not None:
            return _planned(plan, step, turn, events)
        question = resumed.question
    body = seat_body(
        SEAT,
        [
            now_section(deps.clock(), deps.settings),
            tools_section(tools),
            values_section(values),
            previous_plan_section(state.get("last_plan")),
            plan_section(plan),
        ],
    )
    transcript = [m for m in state.get("messages", []) if isinstance(m, HumanMessage | AIMessage)]
    if resumed is not None and transcript:
        transcript[-1] = HumanMessage(question)
    try:
        reply = await seat_call(deps, SEAT, body, transcript, events, tools=openai_tools(tools))
    except ModelCallError as exc:
        failure = NexoFailure(
            kind="model_error", message=f"El modelo no respondió ({exc.message})."
        )
        return events.delta(failure=failure, next_action=None, turn_count=turn)
    decision = parse_decision(reply)
    if decision is None:
        return _invalid("la respuesta del modelo no es un JSON válido.", turn, events)
    by_name = {tool.name: tool for tool in tools}
    vocabulary = domain_vocabulary(tools, values, deps.settings.nexo_tenant_lock)
    reading = _read(question, vocabulary, values) if first_turn else _Reading([], True)
    if decision.tool is None:
        asked = _without_tool(decision, question, reading, vocabulary, by_name)
        if first_turn and asked is not None:
            return _clarify(asked, turn, events)
        failure = NexoFailure(kind="out_of_scope", message=OUT_OF_SCOPE_MESSAGE)
        return events.delta(failure=failure, next_action=None, turn_count=turn)
    tool = deps.registry.get(decision.tool)
    if tool is None or not decision.tool.startswith(prefix):
        return _invalid(
            f"la herramienta {decision.tool!r} no es una consulta de Coordinador.", turn, events
        )
    order_by = decision.order_by
    if order_by is not None and order_by.column not in tool.output_columns:
        columns = ", ".join(tool.output_columns) or "ninguna"
        return _invalid(
            f"{tool.name} no tiene la columna {order_by.column!r} para ordenar "
            f"(sus columnas: {columns}).",
            turn,
            events,
        )
    if reading.unmatched:
        reading = _read(question, vocabulary, values, tool)
    resolved = resolve_args(decision.args, tool.input_model, values)
    resolved.unresolved = [
        item for item in resolved.unresolved if not _names_a_tool(item, vocabulary)
    ]
    if not resolved.unresolved and _off_topic(state, reading):
        failure = NexoFailure(kind="out_of_scope", message=OUT_OF_SCOPE_MESSAGE)
        return events.delta(failure=failure, next_action=None, turn_count=turn)
    carried = (state.get("last_plan") or {}).get("args") or {}
    substituted = (
        ungrounded_values(resolved.args, question, values, carried, vocabulary.is_filler)
        if first_turn
        else []
    )
    unresolved = merge_unresolved(resolved.unresolved, reading.unmatched, substituted)
    if unresolved:
        return _clarify(ask_for_value(question, tool.name, resolved.args, unresolved), turn, events)
    step = NexoStep(
        tool=tool.name, args=resolved.args, order_by=order_by, rationale=decision.rationale
    )
    return _planned(plan, step, turn, events)
