"""Each golden-set rule rejects a bad file naming the entry; the shipped set passes."""

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from miot_harness.evals.catalogue import load_catalogue
from miot_harness.evals.golden import GoldenSetError, load_golden, select_examples
from miot_harness.evals.static_mode import golden_coverage
from miot_harness.nexo.contract import FILTER_CONTRACT_ARGUMENTS

GOLDEN = Path(__file__).parents[2] / "evals" / "golden" / "nexo" / "examples.yaml"
CATALOGUE = load_catalogue(None)


def good_entry(**changes: Any) -> dict[str, Any]:
    entry = {
        "id": "cola-hoy",
        "question": "Cola crítica de hoy",
        "tenant_id": "mintral",
        "expected_route": "nexo_query",
        "expected_tools": ["coordinador_cola_critica"],
        "expected_filters": {"fecha_desde": "@today", "fecha_hasta": "@today"},
        "expected_refusal": False,
        "refusal_reason": None,
        "adversarial": False,
        "tags": ["tabla"],
    }
    entry.update(changes)
    return entry


def write(tmp_path: Path, entries: Any) -> Path:
    path = tmp_path / "examples.yaml"
    path.write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
    return path


def problems_of(tmp_path: Path, entries: Any) -> list[str]:
    with pytest.raises(GoldenSetError) as caught:
        load_golden(write(tmp_path, entries), CATALOGUE)
    return caught.value.problems


def test_a_good_entry_loads(tmp_path):
    [example] = load_golden(write(tmp_path, [good_entry()]), CATALOGUE)
    assert example.id == "cola-hoy" and example.all_turns()[0].question == "Cola crítica de hoy"


def test_missing_required_field_is_named_with_the_entry(tmp_path):
    entry = good_entry(id="sin-tags")
    del entry["tags"]
    [problem] = problems_of(tmp_path, [good_entry(), entry])
    assert "entry 2 ('sin-tags')" in problem and "tags" in problem


def test_duplicate_ids_are_rejected(tmp_path):
    problems = problems_of(tmp_path, [good_entry(), good_entry()])
    assert problems == [
        "entry 1 ('cola-hoy'): duplicate id 'cola-hoy'",
        "entry 2 ('cola-hoy'): duplicate id 'cola-hoy'",
    ]


def test_adversarial_entry_must_expect_a_refusal(tmp_path):
    [problem] = problems_of(tmp_path, [good_entry(id="trampa", adversarial=True)])
    assert "'trampa'" in problem and "adversarial entries must expect a refusal" in problem


def test_unknown_expected_tool_is_rejected(tmp_path):
    entry = good_entry(id="inventada", expected_tools=["coordinador_inventada"])
    problems = problems_of(tmp_path, [entry])
    assert any("'inventada'" in p and "coordinador_inventada" in p for p in problems)


def test_storytelling_tool_on_the_nexo_route_is_rejected(tmp_path):
    entry = good_entry(id="mezcla", expected_tools=["delivery_metrics"], expected_filters={})
    [problem] = problems_of(tmp_path, [entry])
    assert "'mezcla'" in problem and "not in the nexo_query catalogue" in problem


def test_wrong_field_type_and_unknown_route_are_named(tmp_path):
    entry = good_entry(id="ruta", expected_route="sql", expected_refusal="quizás")
    problems = problems_of(tmp_path, [entry])
    assert any("'ruta'" in p and "expected_route" in p for p in problems)
    assert any("'ruta'" in p and "expected_refusal" in p for p in problems)


def test_unknown_field_is_rejected(tmp_path):
    [problem] = problems_of(tmp_path, [good_entry(id="extra", expected_answer="42")])
    assert "'extra'" in problem and "expected_answer" in problem


def test_refusal_needs_a_reason_and_a_reason_needs_a_refusal(tmp_path):
    problems = problems_of(
        tmp_path,
        [
            good_entry(id="sin-motivo", expected_refusal=True, expected_tools=[]),
            good_entry(id="motivo-suelto", refusal_reason="unsafe"),
        ],
    )
    assert any("'sin-motivo'" in p and "refusal_reason is null" in p for p in problems)
    assert any("'motivo-suelto'" in p and "expected_refusal is false" in p for p in problems)


def test_gate_refusal_cannot_expect_tools(tmp_path):
    entry = good_entry(id="tenant-con-tool", expected_refusal=True, refusal_reason="tenant")
    problems = problems_of(tmp_path, [entry])
    assert any("'tenant-con-tool'" in p and "expected_tools must be empty" in p for p in problems)


def test_stale_refusal_needs_stale_minutes(tmp_path):
    entry = good_entry(id="viejo", expected_refusal=True, refusal_reason="stale")
    [problem] = problems_of(tmp_path, [entry])
    assert "'viejo'" in problem and "stale_minutes" in problem


def test_answered_question_needs_a_tool(tmp_path):
    entry = good_entry(id="sin-tool", expected_tools=[], expected_filters={})
    [problem] = problems_of(tmp_path, [entry])
    assert "'sin-tool'" in problem and "at least one expected tool" in problem


def test_filters_without_p_prefix_and_known_to_the_tool(tmp_path):
    entry = good_entry(id="filtros", expected_filters={"p_region": "Biobío", "color": "rojo"})
    problems = problems_of(tmp_path, [entry])
    assert any("'filtros'" in p and "without the p_ prefix" in p for p in problems)
    assert any("'filtros'" in p and "'color' is not an argument" in p for p in problems)


def test_unknown_date_token_is_rejected(tmp_path):
    entry = good_entry(id="fecha", expected_filters={"fecha_desde": "@next_tuesday"})
    [problem] = problems_of(tmp_path, [entry])
    assert "'fecha'" in problem and "@next_tuesday" in problem


def test_follow_up_turn_is_checked_with_its_number(tmp_path):
    turn = {"question": "¿y ayer?", "expected_tools": ["coordinador_nada"], "expected_filters": {}}
    [problem] = problems_of(tmp_path, [good_entry(id="hilo", turns=[turn])])
    assert "'hilo'" in problem and "turn 2" in problem and "coordinador_nada" in problem


def test_bad_id_and_non_mapping_entry(tmp_path):
    problems = problems_of(tmp_path, [good_entry(id="Con Espacios"), "solo texto"])
    assert any("'Con Espacios'" in p and "id must match" in p for p in problems)
    assert any(p.startswith("entry 2:") and "mapping" in p for p in problems)


def test_empty_or_non_list_file_is_rejected(tmp_path):
    assert "non-empty YAML list" in problems_of(tmp_path, {"id": "x"})[0]


def test_snapshot_catalogue_replaces_pinned_names(tmp_path):
    snapshot = tmp_path / "catalogue_snapshot.json"
    snapshot.write_text(
        '{"tools": [{"name": "coordinador_cola_critica", '
        '"input_schema": {"properties": {"region": {}}}}]}'
    )
    catalogue = load_catalogue(snapshot)
    assert catalogue.source == str(snapshot)
    with pytest.raises(GoldenSetError) as caught:
        load_golden(write(tmp_path, [good_entry()]), catalogue)
    assert "'fecha_desde' is not an argument of coordinador_cola_critica" in str(caught.value)


def test_only_selects_known_ids_and_rejects_unknown(tmp_path):
    examples = load_golden(write(tmp_path, [good_entry(), good_entry(id="otro")]), CATALOGUE)
    assert [e.id for e in select_examples(examples, ["otro"])] == ["otro"]
    with pytest.raises(GoldenSetError, match="no-existe"):
        select_examples(examples, ["no-existe"])


def test_shipped_golden_set_is_valid_and_covers_the_issue():
    examples = load_golden(GOLDEN, CATALOGUE)
    coverage = golden_coverage(examples, CATALOGUE)
    assert len(examples) >= 40
    assert all(count >= 3 for tool, count in coverage["tools"].items() if tool.startswith("coo"))
    assert set(coverage["filters"]) >= set(FILTER_CONTRACT_ARGUMENTS) | {"codigo"}
    reasons = coverage["refusal_reasons"]
    assert reasons["tenant"] >= 3 and reasons["stale"] >= 2 and reasons["unsafe"] >= 5
    assert reasons["out_of_scope"] >= 2
    assert coverage["two_tool"] >= 3 and coverage["follow_ups"] >= 2
    assert coverage["storytelling"] >= 2 and coverage["english"] >= 3


def test_holdout_set_is_valid_and_disjoint_from_the_golden_set():
    main = load_golden(GOLDEN, CATALOGUE)
    holdout = load_golden(GOLDEN.with_name("holdout.yaml"), CATALOGUE)
    assert len(holdout) >= 20
    assert not {e.id for e in main} & {e.id for e in holdout}
    assert not {e.question for e in main} & {e.question for e in holdout}


def asking_entry(**changes: Any) -> dict[str, Any]:
    entry = good_entry(
        id="pregunta",
        question="cola crítica de Transportes Pepito",
        expected_tools=[],
        expected_filters={},
        expected_status="needs_input",
        expected_clarification={"reason": "unresolved_value", "unresolved_filters": ["cliente"]},
    )
    entry.update(changes)
    return entry


def test_needs_input_entry_with_its_follow_up_loads(tmp_path):
    turn = {
        "question": "perdón, TransRápido",
        "expected_tools": ["coordinador_cola_critica"],
        "expected_filters": {"transportista": "TransRápido"},
    }
    [example] = load_golden(write(tmp_path, [asking_entry(turns=[turn])]), CATALOGUE)
    assert example.status() == "needs_input"
    assert example.expected_clarification.unresolved_filters == ["cliente"]
    assert example.all_turns()[1].expected_tools == ["coordinador_cola_critica"]


def test_status_is_derived_from_the_refusal_when_not_given(tmp_path):
    refused = good_entry(
        id="otro-tenant", expected_tools=[], expected_filters={}, expected_refusal=True
    )
    refused.update(refusal_reason="tenant", tenant_id="acme")
    answered, rejected = load_golden(write(tmp_path, [good_entry(), refused]), CATALOGUE)
    assert (answered.status(), rejected.status()) == ("completed", "refused")


def test_needs_input_is_not_a_refusal_and_calls_no_tool(tmp_path):
    entries = [
        asking_entry(id="rechazo", expected_refusal=True, refusal_reason="out_of_scope"),
        asking_entry(id="con-tool", expected_tools=["coordinador_cola_critica"]),
    ]
    problems = problems_of(tmp_path, entries)
    assert any("'rechazo'" in p and "expected_refusal must be false" in p for p in problems)
    assert any("'con-tool'" in p and "asks before any tool" in p for p in problems)


def test_needs_input_needs_a_clarification_and_only_it_may_have_one(tmp_path):
    clarification = {"reason": "unresolved_value", "unresolved_filters": ["cliente"]}
    entries = [
        asking_entry(id="sin-aclaracion", expected_clarification=None),
        good_entry(id="aclara-sin-pedir", expected_clarification=clarification),
    ]
    problems = problems_of(tmp_path, entries)
    assert any("'sin-aclaracion'" in p and "needs expected_clarification" in p for p in problems)
    assert any("'aclara-sin-pedir'" in p and "only for expected_status" in p for p in problems)


def test_status_must_agree_with_the_refusal(tmp_path):
    entries = [
        good_entry(id="dice-rechazo", expected_status="refused"),
        good_entry(
            id="dice-completo",
            expected_status="completed",
            expected_tools=[],
            expected_filters={},
            expected_refusal=True,
            refusal_reason="out_of_scope",
        ),
    ]
    problems = problems_of(tmp_path, entries)
    assert any("'dice-rechazo'" in p and "needs expected_refusal true" in p for p in problems)
    assert any("'dice-completo'" in p and "contradicts" in p for p in problems)


def test_clarification_names_known_filters_and_catalogue_tools(tmp_path):
    entries = [
        asking_entry(
            id="filtro-raro",
            expected_clarification={"reason": "unresolved_value", "unresolved_filters": ["color"]},
        ),
        asking_entry(
            id="tool-rara",
            expected_clarification={
                "reason": "ambiguous_tool",
                "candidate_tools": ["coordinador_cola_critica", "coordinador_inventada"],
            },
        ),
    ]
    problems = problems_of(tmp_path, entries)
    assert any("'filtro-raro'" in p and "'color' is not a shared filter" in p for p in problems)
    assert any("'tool-rara'" in p and "coordinador_inventada" in p for p in problems)


def test_each_clarification_reason_names_what_it_is_about(tmp_path):
    entries = [
        asking_entry(id="sin-filtros", expected_clarification={"reason": "unresolved_value"}),
        asking_entry(
            id="una-tool",
            expected_clarification={
                "reason": "ambiguous_tool",
                "candidate_tools": ["coordinador_cola_critica"],
            },
        ),
        asking_entry(id="motivo-raro", expected_clarification={"reason": "no_se"}),
    ]
    problems = problems_of(tmp_path, entries)
    assert any("'sin-filtros'" in p and "names its unresolved_filters" in p for p in problems)
    assert any("'una-tool'" in p and "at least 2 candidate_tools" in p for p in problems)
    assert any("'motivo-raro'" in p and "reason" in p for p in problems)


def test_answer_contains_only_for_completed_runs(tmp_path):
    ranked = good_entry(id="ranking", expected_answer_contains=["LogiAndes"])
    asking = asking_entry(id="pide", expected_answer_contains=["LogiAndes"])
    with pytest.raises(GoldenSetError) as caught:
        load_golden(write(tmp_path, [ranked, asking]), CATALOGUE)
    [problem] = caught.value.problems
    assert "'pide'" in problem and "only for completed runs" in problem


def test_new_date_tokens_are_accepted_and_impossible_days_rejected(tmp_path):
    good = good_entry(
        id="fechas", expected_filters={"fecha_desde": "@dm:03-11", "fecha_hasta": "@prev_tue"}
    )
    bad = good_entry(id="dia-malo", expected_filters={"fecha_desde": "@dm:31-11"})
    problems = problems_of(tmp_path, [good, bad])
    assert problems == [
        "entry 2 ('dia-malo'): filter 'fecha_desde': date token '@dm:31-11' names no day (DD-MM)"
    ]


def test_sealed_holdout_is_valid_and_keeps_its_mix():
    main = load_golden(GOLDEN, CATALOGUE)
    sealed = load_golden(GOLDEN.with_name("sealed-holdout.yaml"), CATALOGUE)
    statuses = Counter(example.status() for example in sealed)
    assert len(sealed) >= 90 and all(example.id.startswith("sh-") for example in sealed)
    assert statuses["needs_input"] >= 18 and statuses["refused"] >= 15
    reasons = Counter(e.expected_clarification.reason for e in sealed if e.expected_clarification)
    assert reasons["unresolved_value"] >= 15 and reasons["ambiguous_tool"] >= 3
    assert not {e.question for e in main} & {e.question for e in sealed}
