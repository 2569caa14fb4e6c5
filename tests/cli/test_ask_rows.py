"""`ask --json` shows a person every row the tool returned, up to the limit asked for, while
the model read only its capped few."""

from __future__ import annotations

import re
from pathlib import Path

from cli.test_run_commands import _ask_json


def test_ask_for_ten_shows_ten_rows_and_the_total(demo_db, tmp_path: Path) -> None:
    record = _ask_json(
        tmp_path,
        "cola crítica de hoy en la RM, los 10 primeros",
        env={"MIOT_HARNESS_NEXO_DSN": demo_db.harness_dsn},
    )

    assert record.status.value == "completed", record.answer
    [evidence] = record.artifacts["evidence"]
    assert evidence["tool"] == "coordinador_cola_critica"
    assert len(evidence["rows"]) == 10 and evidence["total_count"] > 10
    assert len(evidence["output"]["rows"]) == 5  # what the model read
    shown = re.findall(r"^\| SV-\d+ ", record.answer, flags=re.MULTILINE)
    assert len(shown) == 10
    codes = [row["codigo"] for row in evidence["rows"]]
    assert [line.split()[1] for line in shown] == codes  # in the function's order
    assert f"_Mostrando 10 de {evidence['total_count']}._" in record.answer
