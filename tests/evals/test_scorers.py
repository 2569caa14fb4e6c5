"""Every scorer on a passing and a failing run, and the number reader behind no_hallucination."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

from miot_harness.evals.date_tokens import local_today, resolve_date_token, resolve_filters
from miot_harness.evals.numbers import answer_numbers
from miot_harness.evals.observation import RunObservation, ToolCall
from miot_harness.evals.outcome import ExampleResult, aggregate
from miot_harness.evals.scorers import (
    Usage,
    score_clarified_when_unresolved,
    score_false_refusal,
    score_filter_sanity,
    score_freshness_citation,
    score_latency_ms,
    score_model_usage,
    score_no_hallucination,
    score_no_silent_widening,
    score_refusal,
    score_route,
    score_status,
    score_tool_selection,
)

ZONE = "America/Santiago"
# 17:05 UTC is 14:05 in Santiago (UTC-3 in November).
STAMP = datetime(2026, 11, 25, 17, 5, tzinfo=UTC)


def obs(**changes: Any) -> RunObservation:
    base: dict[str, Any] = {
        "route": "nexo_query",
        "status": "completed",
        "refusal_reason": None,
        "answer": "",
        "tool_calls": [],
        "refresh_stamps": [STAMP],
        "evidence": [],
        "started_at": STAMP + timedelta(minutes=7),
        "finished_at": STAMP + timedelta(minutes=7, seconds=2),
        "latency_ms": 120.0,
        "model_calls": 3,
        "input_tokens": 900,
        "output_tokens": 120,
    }
    base.update(changes)
    return RunObservation(**base)


def call(tool: str, **args: Any) -> ToolCall:
    return ToolCall(tool=tool, args=args)


def test_route_pass_and_fail():
    assert score_route("nexo_query", obs()).passed is True
    assert score_route("storytelling", obs()).passed is False


def test_tool_selection_primary_first_and_all_expected():
    two = ["coordinador_centro_control", "coordinador_cola_critica"]
    both = obs(tool_calls=[call(two[0]), call(two[1])])
    assert score_tool_selection(two, both).passed is True
    reversed_order = obs(tool_calls=[call(two[1]), call(two[0])])
    assert score_tool_selection(two, reversed_order).passed is False
    only_first = obs(tool_calls=[call(two[0])])
    failed = score_tool_selection(two, only_first)
    assert failed.passed is False and "missing" in failed.detail


def test_tool_selection_expecting_no_tool():
    assert score_tool_selection([], obs()).passed is True
    assert score_tool_selection([], obs(tool_calls=[call("coordinador_catalogo")])).passed is False


def test_filter_sanity_present_and_equal_with_extras_allowed():
    expected = {"region": "Metropolitana", "limit": 10, "es_critico": True}
    good = obs(
        tool_calls=[
            call(
                "coordinador_cola_critica", region="metropolitana", limit="10", es_critico=True, x=1
            )
        ]
    )
    assert score_filter_sanity(["coordinador_cola_critica"], expected, good).passed is True
    wrong = obs(tool_calls=[call("coordinador_cola_critica", region="Biobío", limit=10)])
    failed = score_filter_sanity(["coordinador_cola_critica"], expected, wrong)
    assert failed.passed is False and "Biobío" in failed.detail and "es_critico" in failed.detail


def test_filter_sanity_not_applicable_without_filters_and_failing_without_the_call():
    assert score_filter_sanity(["coordinador_catalogo"], {}, obs()).passed is None
    missing = score_filter_sanity(["coordinador_cola_critica"], {"region": "Biobío"}, obs())
    assert missing.passed is False


def test_filter_sanity_compares_resolved_dates():
    today = date(2026, 11, 25)
    expected = resolve_filters({"fecha_desde": "@today-7", "fecha_hasta": "@today"}, today)
    run = obs(
        tool_calls=[
            call("coordinador_auditoria_pod", fecha_desde="2026-11-18", fecha_hasta="2026-11-25")
        ]
    )
    assert score_filter_sanity(["coordinador_auditoria_pod"], expected, run).passed is True
    off_by_one = obs(
        tool_calls=[
            call("coordinador_auditoria_pod", fecha_desde="2026-11-19", fecha_hasta="2026-11-25")
        ]
    )
    assert score_filter_sanity(["coordinador_auditoria_pod"], expected, off_by_one).passed is False


def test_freshness_citation_in_the_configured_zone():
    cited = obs(answer="Hay 12 servicios. Datos actualizados a las 14:05, hace 7 min.")
    assert score_freshness_citation(cited, ZONE).passed is True
    utc_time = obs(answer="Hay 12 servicios. Datos actualizados a las 17:05.")
    assert score_freshness_citation(utc_time, ZONE).passed is False
    refused = obs(status="refused", answer="No puedo.")
    assert score_freshness_citation(refused, ZONE).passed is None


def test_refusal_exactly_when_expected_with_reason():
    refused = obs(status="refused", refusal_reason="tenant", refresh_stamps=[])
    assert score_refusal(True, "tenant", refused).passed is True
    wrong_reason = score_refusal(True, "unsafe", refused)
    assert wrong_reason.passed is False and "reason tenant" in wrong_reason.detail
    assert score_refusal(False, None, refused).passed is False
    assert score_refusal(True, "stale", obs()).passed is False
    assert score_refusal(False, None, obs()).passed is True


def test_no_hallucination_accepts_separators_percent_rounding_and_stamp():
    evidence = [{"data": {"total": 12345, "tasa_cumplimiento_pct": 87.46, "ratio": 0.25}}]
    answer = (
        "Resumen:\n1. Total: 12.345 servicios (12,345).\n2. Cumplimiento 87,5 % (87 %).\n"
        "3. Un 25 % del total. Datos actualizados a las 14:05 del 25-11-2026, hace 7 min."
    )
    assert score_no_hallucination(obs(answer=answer, evidence=evidence), ZONE).passed is True


def test_no_hallucination_flags_an_invented_number():
    evidence = [{"data": {"total": 12345}}]
    answer = "Total: 12.345 servicios, de los cuales 311 están atrasados. Datos de las 14:05."
    score = score_no_hallucination(obs(answer=answer, evidence=evidence), ZONE)
    assert score.passed is False and "311" in score.detail


def test_no_hallucination_reads_row_times_shown_in_the_local_zone():
    # 2026-11-26 01:51 UTC is 25-11 22:51 in Santiago: no digit of it is in the raw text.
    evidence = [{"rows": [{"codigo": "SV-0000123", "eta": "2026-11-26T01:51:00+00:00"}]}]
    shown = "SV-0000123 llega el 25-11 22:51. Datos de las 14:05."
    assert score_no_hallucination(obs(answer=shown, evidence=evidence), ZONE).passed is True
    wrong = "SV-0000123 llega el 25-11 23:51. Datos de las 14:05."
    score = score_no_hallucination(obs(answer=wrong, evidence=evidence), ZONE)
    assert score.passed is False and "23" in score.detail


def test_no_hallucination_allows_numbers_from_the_question_and_rows_shown():
    evidence = [{"rows": [{"codigo": "SV-0000123"}, {"codigo": "SV-0000124"}], "total_count": 40}]
    answer = "Mostrando 2 de 40 (pediste los 10 primeros): SV-0000123, SV-0000124. Datos 14:05."
    run = obs(answer=answer, evidence=evidence)
    assert score_no_hallucination(run, ZONE).passed is False
    assert score_no_hallucination(run, ZONE, given_numbers=[10]).passed is True


def test_answer_numbers_ignores_layer_tags_and_list_markers():
    numbers = [n.text for n in answer_numbers("1. Capa L2: 1.234,5 km\n2) 7 %")]
    assert numbers == ["1.234,5", "7"]


def test_latency_and_model_usage():
    run = obs(latency_ms=250.0)
    assert score_latency_ms(run, budget_ms=300).passed is True
    assert score_latency_ms(run, budget_ms=200).passed is False
    assert score_latency_ms(run).passed is None
    usage = score_model_usage(run)
    assert (usage.model_calls, usage.input_tokens, usage.output_tokens) == (3, 900, 120)


def test_date_tokens_weeks_months_and_zone():
    wednesday = date(2026, 11, 25)
    assert resolve_date_token("@week_start", wednesday) == date(2026, 11, 23)
    assert resolve_date_token("@week_end", wednesday) == date(2026, 11, 29)
    assert resolve_date_token("@last_week_start", wednesday) == date(2026, 11, 16)
    assert resolve_date_token("@month_end", date(2026, 2, 10)) == date(2026, 2, 28)
    assert resolve_date_token("@last_month_start", date(2026, 1, 5)) == date(2025, 12, 1)
    assert resolve_date_token("@today+3", date(2026, 11, 30)) == date(2026, 12, 3)
    # 02:00 UTC on the 26th is still the 25th in Santiago.
    assert local_today(datetime(2026, 11, 26, 2, 0, tzinfo=UTC), ZONE) == wednesday


def test_aggregate_rates_and_tags():
    usage = Usage(latency_ms=10.0, model_calls=3, input_tokens=100, output_tokens=10)
    ok = dict.fromkeys(["route", "tool_selection", "filter_sanity", "freshness_citation",
                        "refusal", "no_hallucination"], True)  # fmt: skip
    results = [
        ExampleResult(id="a", tags=["kpi", "english"], passed=ok, usage=usage),
        ExampleResult(id="b", tags=["kpi"], passed=ok | {"filter_sanity": False}, usage=usage),
        ExampleResult(id="c", tags=["tenant"], passed=ok | {"filter_sanity": None}, usage=usage),
    ]
    aggregates = aggregate(results)
    assert aggregates["metrics"]["filter_sanity"] == {"passed": 1, "applicable": 2, "rate": 0.5}
    assert aggregates["metrics"]["route"]["rate"] == 1.0
    assert aggregates["passed_all"] == 2
    assert aggregates["by_tag"]["kpi"] == {"examples": 2, "passed_all": 1}
    assert aggregates["by_tag"]["tenant"] == {"examples": 1, "passed_all": 1}
    unreported = {"passed": 0, "applicable": 0, "rate": None}
    assert aggregates["metrics"]["false_refusal"] == unreported


ASKED_CARRIER = {
    "reason": "unresolved_value",
    "unresolved": [{"filter": "transportista", "text": "Transportes Pepito",
                    "suggestions": ["TransRápido"]}],
    "options": [{"label": "TransRápido", "message": "¿TransRápido tiene atrasos?"}],
}  # fmt: skip
COLA = "coordinador_cola_critica"


def test_status_pass_and_fail():
    assert score_status("needs_input", obs(status="needs_input")).passed is True
    assert score_status("needs_input", obs(status="completed")).passed is False


def test_clarified_when_unresolved_pass_and_fail():
    asked = obs(status="needs_input", clarification=ASKED_CARRIER, refresh_stamps=[])
    verdict = score_clarified_when_unresolved(
        "needs_input", "unresolved_value", ["transportista"], asked
    )
    assert verdict.passed is True
    answered = obs(tool_calls=[call(COLA)])
    verdict = score_clarified_when_unresolved(
        "needs_input", "unresolved_value", ["transportista"], answered
    )
    assert verdict.passed is False and "nothing asked" in verdict.detail
    wrong_filter = score_clarified_when_unresolved(
        "needs_input", "unresolved_value", ["cliente"], asked
    )
    assert wrong_filter.passed is False and "cliente" in wrong_filter.detail
    wrong_reason = score_clarified_when_unresolved("needs_input", "ambiguous_tool", [], asked)
    assert wrong_reason.passed is False
    assert score_clarified_when_unresolved("completed", None, [], answered).passed is None


def test_no_silent_widening_pass_and_fail():
    kept = obs(tool_calls=[call(COLA, transportista="TransRápido", region="Metropolitana")])
    filters = {"transportista": "TransRápido", "region": "Metropolitana"}
    assert score_no_silent_widening("completed", [COLA], filters, kept).passed is True
    wider = obs(tool_calls=[call(COLA, region="Metropolitana")])
    verdict = score_no_silent_widening("completed", [COLA], filters, wider)
    assert verdict.passed is False and "transportista" in verdict.detail
    instead_of_asking = score_no_silent_widening("needs_input", [], {}, wider)
    assert instead_of_asking.passed is False
    assert score_no_silent_widening("needs_input", [], {}, obs()).passed is None


def test_false_refusal_pass_and_fail():
    assert score_false_refusal("completed", obs()).passed is True
    assert score_false_refusal("needs_input", obs(status="needs_input")).passed is True
    refused = obs(status="refused", refusal_reason="out_of_scope")
    verdict = score_false_refusal("completed", refused)
    assert verdict.passed is False and "out_of_scope" in verdict.detail
    assert score_false_refusal("refused", refused).passed is None


def test_a_clarification_is_not_judged_for_hallucinated_numbers():
    asked = obs(status="needs_input", answer="1. TransRápido\n2. Sin filtrar", refresh_stamps=[])
    assert score_no_hallucination(asked, ZONE).passed is None
