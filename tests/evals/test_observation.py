"""Reading a run record into the facts the scorers judge."""

from datetime import UTC, datetime

from harness_support import run_record
from miot_harness.evals.observation import observe
from miot_harness.events import HarnessEventType, make_event
from miot_harness.schemas import HarnessRunRecord, RunStatus

STAMP = datetime(2026, 11, 25, 17, 5, tzinfo=UTC)
TOOL = "coordinador_conteo_servicios"


def record(*events, status=RunStatus.COMPLETED, answer="Hay 42.") -> HarnessRunRecord:
    return run_record(
        status=status,
        answer=answer,
        events=list(events),
        artifacts={"evidence": [{"output": {"value": 42}}]},
    )


def test_tools_stamps_usage_and_evidence_come_from_the_events():
    run = record(
        make_event(HarnessEventType.AGENT_TURN, "filter_expert", model_calls=1, input_tokens=900,
                   output_tokens=40),
        make_event(HarnessEventType.TOOL_STARTED, "data_fetcher", tool=TOOL,
                   args={"comuna": "Maipú"}),
        make_event(HarnessEventType.TOOL_COMPLETED, "data_fetcher", tool=TOOL,
                   refreshed_at=STAMP.isoformat()),
        make_event(HarnessEventType.AGENT_TURN, "synthesizer", model_calls=1, input_tokens=700,
                   output_tokens=60),
        make_event(HarnessEventType.RUN_COMPLETED, "supervisor", status="completed",
                   refusal_reason=None),
    )  # fmt: skip
    obs = observe(run, latency_ms=12.5)
    assert [(c.tool, c.args) for c in obs.tool_calls] == [(TOOL, {"comuna": "Maipú"})]
    assert obs.refresh_stamps == [STAMP]
    assert (obs.model_calls, obs.input_tokens, obs.output_tokens) == (2, 1600, 100)
    assert obs.route == "nexo_query" and obs.refusal_reason is None and obs.latency_ms == 12.5
    assert run.artifacts in obs.evidence


def test_refusal_reason_comes_from_run_completed():
    run = record(
        make_event(HarnessEventType.RUN_COMPLETED, "supervisor", status="refused",
                   refusal_reason="tenant"),
        status=RunStatus.REFUSED,
        answer="Coordinador atiende solo al tenant mintral.",
    )  # fmt: skip
    obs = observe(run, latency_ms=1.0)
    assert (obs.status, obs.refusal_reason, obs.tool_calls) == ("refused", "tenant", [])
