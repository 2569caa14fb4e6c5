"""The advisory judge: strict JSON verdicts, malformed replies kept as errors, refusals skipped."""

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from miot_harness.evals.judge import JUDGE_PROMPT, Judge, judge_results, parse_verdict
from miot_harness.evals.outcome import ExampleResult, TurnResult
from miot_harness.evals.scorers import Usage

USAGE = Usage(latency_ms=1.0, model_calls=0, input_tokens=0, output_tokens=0)


def turn(status: str, answer: str) -> TurnResult:
    return TurnResult(
        question="¿Cuántos servicios atrasados hay hoy?",
        status=status,
        route="nexo_query",
        refusal_reason=None,
        tools=["coordinador_conteo_servicios"],
        args=[{"eta_clasificacion": "atrasado"}],
        answer=answer,
        scores=[],
        usage=USAGE,
        evidence=[{"value": 42}],
    )


def example(ident: str, *turns: TurnResult) -> ExampleResult:
    return ExampleResult(id=ident, tags=[], passed={}, turns=list(turns), usage=USAGE)


def test_parse_verdict_accepts_fenced_json_and_rejects_out_of_range():
    reply = '```json\n{"operational_helpfulness": 5, "domain_fidelity": 4, "conciseness": 3}\n```'
    assert parse_verdict(reply).domain_fidelity == 4
    with pytest.raises(ValueError, match="expected JSON"):
        parse_verdict('{"operational_helpfulness": 7, "domain_fidelity": 4, "conciseness": 3}')
    with pytest.raises(ValueError):
        parse_verdict("Le doy un 5.")


async def test_judge_scores_answered_turns_and_keeps_malformed_replies():
    model = FakeListChatModel(
        responses=[
            '{"operational_helpfulness": 4, "domain_fidelity": 5, "conciseness": 5, '
            '"rationale": "Directa."}',
            "no es JSON",
        ]
    )
    results = [
        example("a", turn("completed", "Hay 42 servicios atrasados (datos de las 14:05).")),
        example("b", turn("refused", "No puedo.")),
        example("c", turn("completed", "Hay 42.")),
    ]
    judge = Judge("fake-judge", model, JUDGE_PROMPT.read_text(encoding="utf-8"))
    judged = await judge_results(judge, results)
    assert [v["id"] for v in judged["turns"]] == ["a", "c"]
    assert judged["model"] == "fake-judge"
    assert judged["turns"][0]["domain_fidelity"] == 5 and "error" in judged["turns"][1]
    assert judged["means"] == {
        "operational_helpfulness": 4.0,
        "domain_fidelity": 5.0,
        "conciseness": 5.0,
    }
