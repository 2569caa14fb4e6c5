"""The offline filter expert asks when no word of a question sets one tool apart, and answers
when a word, a shape cue or a stated name does (the live catalogue, keywords included)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from miot_harness.models.offline import OfflineChatModel
from miot_harness.models.seat_protocol import FilterDecision
from offline.prompts import filter_messages, load_tools

MODEL = OfflineChatModel()
SNAPSHOT = Path(__file__).parents[1] / "nexo" / "catalogue_snapshot.json"


def live_tools() -> list[dict]:
    """The catalogue's tools as introspected, with the fixture's result columns."""
    columns = {tool["name"]: tool.get("output_columns") for tool in load_tools()}
    tools = json.loads(SNAPSHOT.read_text(encoding="utf-8"))["tools"]
    return [{**tool, "output_columns": columns.get(tool["name"]) or {}} for tool in tools]


def decide(question: str) -> FilterDecision:
    reply = MODEL.invoke(filter_messages(question, tools=live_tools()))
    return FilterDecision.model_validate_json(reply.content)


@pytest.mark.parametrize(
    "question",
    [
        "quiero saber de los retrasos de esta semana",
        "fallidos de la semana pasada",
        "los problemas de ayer",
        "servicios demorados en Maipú",
    ],
)
def test_a_shared_subject_alone_asks_between_the_tools_that_share_it(question):
    decision = decide(question)
    assert decision.tool is None
    assert 2 <= len(decision.candidates) <= 3


@pytest.mark.parametrize(
    ("question", "tool"),
    [
        # a count cue, a breakdown cue, a list cue
        ("¿cuántos retrasos hubo ayer?", "conteo_servicios"),
        ("retrasos de la semana por comuna", "torre_control"),
        ("¿cuáles servicios van con retraso hoy?", "cola_critica"),
        # a word of one tool's own name
        ("problemas de POD de ayer", "auditoria_pod"),
        ("fallidos de la cola de hoy", "cola_critica"),
        # a carrier named: the tool whose rows are carriers
        ("¿cómo le fue a LogiAndes con las entregas a tiempo?", "rendimiento_transportista"),
        # no "por …": one figure rather than one per carrier
        ("tasa de cumplimiento de la semana pasada", "centro_control"),
    ],
)
def test_a_separating_word_or_cue_still_answers(question, tool):
    assert decide(question).tool == f"coordinador_{tool}"


@pytest.mark.parametrize(
    "question",
    [
        "¿qué centros y transportistas están registrados?",
        "¿qué clientes y comunas tenemos en el sistema?",
    ],
)
def test_a_catalogue_question_naming_two_kinds_of_values_is_one_ask(question):
    assert decide(question).tool == "coordinador_catalogo"
