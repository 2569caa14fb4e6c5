"""How `ask` and `demo` print a run: a clarification's question, options and how to send one."""

from __future__ import annotations

import io

from rich.console import Console

from harness_support import CLARIFICATION, QUESTION_BACK, run_record
from miot_harness.cli.run import render_record
from miot_harness.schemas import HarnessRunRecord, RunStatus
from miot_harness.settings import load_settings


def _printed(record: HarnessRunRecord) -> str:
    out = io.StringIO()
    console = Console(file=out, width=160, color_system=None, soft_wrap=True)
    render_record(console, record, load_settings(), "Respuesta")
    return out.getvalue()


def _record(status: RunStatus, answer: str, artifacts: dict) -> HarnessRunRecord:
    return run_record(
        thread_id="hilo-42",
        status=status,
        message="¿Transportes Pepito tiene servicios atrasados?",
        answer=answer,
        artifacts=artifacts,
    )


def test_a_clarification_prints_its_question_and_numbered_options_to_send() -> None:
    text = _printed(_record(RunStatus.NEEDS_INPUT, QUESTION_BACK, {"clarification": CLARIFICATION}))
    assert "needs_input · ruta nexo_query" in text
    assert "Transportes Pepito" in text and "¿Te refieres a…?" in text
    assert (
        "Sin coincidencia: Transportes Pepito (transportista); valores parecidos: TransRápido"
        in text
    )
    first = text.index("1. TransRápido")
    second = text.index("2. Todos los transportistas")
    assert first < second
    assert (
        "miot-harness ask '¿TransRápido tiene servicios atrasados?' --thread-id hilo-42"
        in text[first:second]
    )
    assert "miot-harness ask 'servicios atrasados por transportista' --thread-id hilo-42" in text


def test_an_answer_without_a_clarification_prints_no_options() -> None:
    text = _printed(_record(RunStatus.COMPLETED, "Hay **3** servicios atrasados.", {}))
    assert "Hay 3 servicios atrasados." in text
    assert "Opciones" not in text and "--thread-id" not in text
