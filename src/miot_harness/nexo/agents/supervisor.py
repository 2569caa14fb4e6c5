"""`next_agent`: the deterministic, rule-based router between the Nexo nodes (SPEC 4)."""

from __future__ import annotations

from miot_harness.nexo.agents.summarizer import MAX_THREAD_MESSAGES
from miot_harness.nexo.state import NexoState
from miot_harness.settings import HarnessSettings

END = "__end__"
TENANT_GATE = "tenant_gate"
SUMMARIZER = "summarizer"
FILTER_EXPERT = "filter_expert"
DATA_FETCHER = "data_fetcher"
FRESHNESS_JUDGE = "freshness_judge"
DOMAIN_ANALYST = "domain_analyst"
SYNTHESIZER = "synthesizer"
CRITIC = "critic"

ROUTED_NODES = (
    TENANT_GATE,
    SUMMARIZER,
    FILTER_EXPERT,
    DATA_FETCHER,
    FRESHNESS_JUDGE,
    DOMAIN_ANALYST,
    SYNTHESIZER,
)
_BY_ACTION = {
    "plan": FILTER_EXPERT,
    "fetch": DATA_FETCHER,
    "judge": FRESHNESS_JUDGE,
    "analyze": DOMAIN_ANALYST,
    "ready_to_synthesize": SYNTHESIZER,
}


def next_agent(state: NexoState, settings: HarnessSettings) -> str:
    """Nodes hint with `next_action`; answer, failure, long threads and the turn cap win."""
    if state.get("answer") is not None:
        return END
    if state.get("failure") is not None:
        return SYNTHESIZER
    ctx = state.get("ctx")
    # Summarise only for the served tenant: a refused tenant must cost no model call.
    if (
        len(state.get("messages", [])) > MAX_THREAD_MESSAGES
        and ctx is not None
        and ctx.tenant_id == settings.nexo_tenant_lock
    ):
        return SUMMARIZER
    action = state.get("next_action")
    if action is None:
        return TENANT_GATE
    if action == "need_more_tools":
        return (
            SYNTHESIZER if state.get("turn_count", 0) >= settings.nexo_turn_cap else FILTER_EXPERT
        )
    return _BY_ACTION[action]
