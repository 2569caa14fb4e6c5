"""`truncate_for_trace`: list caps, wide dicts, nested lists (SPEC 12)."""

from __future__ import annotations

from pydantic import BaseModel

from miot_harness.trace import truncate_for_trace


def test_a_list_becomes_five_rows_and_its_total():
    rows = [{"id": i} for i in range(12)]
    assert truncate_for_trace(rows) == {"rows": rows[:5], "total_count": 12}
    assert truncate_for_trace([]) == {"rows": [], "total_count": 0}


def test_a_wide_dict_keeps_stamps_then_kpis_then_the_rest_in_order():
    payload = {f"texto_{i:02d}": f"v{i}" for i in range(15)}
    payload |= {f"n_{i:02d}": i for i in range(10)}
    payload["refreshed_at_servicios"] = "2026-11-25T08:00:00-03:00"
    payload["refreshed_at_pod"] = "2026-11-25T07:55:00-03:00"
    result = truncate_for_trace(payload)
    kept = [key for key in result if key != "truncated_keys"]
    assert {"refreshed_at_servicios", "refreshed_at_pod"} <= set(kept)
    assert {f"n_{i:02d}" for i in range(10)} <= set(kept)
    assert len(kept) == 20
    texts_kept = [key for key in kept if key.startswith("texto_")]
    assert texts_kept == [f"texto_{i:02d}" for i in range(8)]
    assert result["truncated_keys"] == [f"texto_{i:02d}" for i in range(8, 15)]
    assert list(result) == [key for key in payload if key in kept] + ["truncated_keys"]


def test_nested_lists_are_truncated_and_small_dicts_kept():
    payload = {"totales": {"entregado": 4}, "regiones": [{"nombre": str(i)} for i in range(9)]}
    assert truncate_for_trace(payload) == {
        "totales": {"entregado": 4},
        "regiones": {"rows": [{"nombre": str(i)} for i in range(5)], "total_count": 9},
    }


def test_models_are_dumped_first_and_scalars_pass_through():
    class Out(BaseModel):
        rows: list[int]

    assert truncate_for_trace(Out(rows=list(range(7)))) == {
        "rows": {"rows": [0, 1, 2, 3, 4], "total_count": 7}
    }
    assert truncate_for_trace(3) == 3 and truncate_for_trace(None) is None
