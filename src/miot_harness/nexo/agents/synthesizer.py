"""`synthesizer`: the user's answer; refusals and failures are written locally, no model.

A model writes the prose from the few rows it reads; the harness then appends every row the
tools returned as tables, so a person sees all that was asked for while the model's context
keeps its cap. The thread keeps only the prose.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from langchain_core.messages import AIMessage, HumanMessage

from miot_harness.events import HarnessEventType, make_event
from miot_harness.evidence_table import order_note, render_table
from miot_harness.models.usage import ModelCallError
from miot_harness.nexo.agents.calls import seat_call
from miot_harness.nexo.agents.deps import NexoDeps
from miot_harness.nexo.agents.events import NodeEvents
from miot_harness.nexo.agents.prompts import outcome_sections, seat_body, tool_title
from miot_harness.nexo.state import NexoEvidence, NexoFailure, NexoState
from miot_harness.request_gate import tenant_message
from miot_harness.wording import label

SEAT = "synthesizer"
_PAGING_ARGS = frozenset({"limit", "offset"})


def _answers_with_model(failure: NexoFailure | None, has_evidence: bool) -> bool:
    # A full plan is a soft failure: what was gathered is still worth answering with.
    return failure is None or (failure.kind == "plan_cap" and has_evidence)


async def _model_answer(state: NexoState, deps: NexoDeps, events: NodeEvents) -> str:
    evidence = state.get("evidence") or []
    body = seat_body(SEAT, outcome_sections(evidence, deps.clock(), deps.settings, deps.registry))
    reply = await seat_call(deps, SEAT, body, [HumanMessage(state["question"])], events)
    if not reply.text.strip():
        raise ModelCallError(reply.model, "empty answer")
    return reply.text.strip()


def _no_rows_line(title: str, args: dict[str, Any]) -> str:
    """An empty result said in words, whatever the model wrote: "ninguna fila con conductor «X»"."""
    named = [
        f"{label(name).lower()} «{value}»"
        for name, value in args.items()
        if name not in _PAGING_ARGS and value not in (None, "")
    ]
    return f"**{title}**: ninguna fila" + (f" con {', '.join(named)}" if named else "") + "."


def evidence_tables(evidence: Sequence[NexoEvidence], deps: NexoDeps) -> str:
    """Every table result as a titled Markdown table of all its rows; an empty one as a line."""
    zone = ZoneInfo(deps.settings.timezone)
    blocks = []
    for item in evidence:
        if item.rows is None:
            continue
        tool = deps.registry.get(item.tool)
        title = tool_title(tool.description) if tool is not None else item.tool
        if not item.rows:
            blocks.append(_no_rows_line(title, item.args))
            continue
        keep = item.order_by.column if item.order_by else None
        lines = [f"**{title}**", "", *render_table(item.rows, item.total_count, zone, keep)]
        if item.order_by is not None:
            lines.append(f"_{order_note(item.order_by, item.ranked_rows, item.total_count)}_")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


async def synthesizer(state: NexoState, deps: NexoDeps) -> dict[str, Any]:
    """Write the answer, emit `answer.completed`, and remember this run's last step."""
    events = NodeEvents()
    failure = state.get("failure")
    has_evidence = bool(state.get("evidence"))
    lock = deps.settings.nexo_tenant_lock
    if failure is None and not has_evidence and state["ctx"].tenant_id != lock:
        failure = NexoFailure(kind="tenant", message=tenant_message(lock))
    answer = failure.message if failure is not None else ""
    prose = answer
    local = not _answers_with_model(failure, has_evidence)
    if not local:
        try:
            prose = await _model_answer(state, deps, events)
            tables = evidence_tables(state.get("evidence") or [], deps)
            answer = f"{prose}\n\n{tables}" if tables else prose
        except ModelCallError as exc:
            failure = NexoFailure(
                kind="model_error",
                message=f"No pude redactar la respuesta: el modelo falló ({exc.message}). "
                "Intenta de nuevo en unos minutos.",
            )
            answer = prose = failure.message
            local = True
    events(
        make_event(
            HarnessEventType.ANSWER_COMPLETED,
            SEAT,
            chars=len(answer),
            local=local,
            failure=failure.kind if failure is not None else None,
        )
    )
    update: dict[str, Any] = {
        "answer": answer,
        "answer_is_local": local,
        "failure": failure,
        "messages": [AIMessage(prose)],
    }
    plan = state.get("plan")
    if plan is not None and plan.steps:
        last = plan.steps[-1]
        update["last_plan"] = {"tool": last.tool, "args": last.args} | (
            {"order_by": last.order_by.model_dump()} if last.order_by else {}
        )
    return events.delta(**update)
