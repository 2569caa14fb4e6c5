"""What the harness reads in a question without a model: names, domain signal, catalogue
values and their substitutes (pure functions over the demo catalogue's tools and values)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from nexo_fakes import FakeTool, rows

from miot_harness.demo.vocabulary import CARRIERS, CENTRES, CLIENTS, REGIONS
from miot_harness.nexo.agents.clarification import (
    PendingClarification,
    ask_for_value,
    resume,
    ungrounded_values,
    unresolved_names,
)
from miot_harness.nexo.agents.domain_signal import DomainVocabulary, domain_vocabulary
from miot_harness.nexo.agents.filter_values import (
    catalogue_spellings,
    normalise_plate,
    resolve_value,
)
from miot_harness.nexo.agents.question_names import find_names

SNAPSHOT = Path(__file__).parents[1] / "nexo" / "catalogue_snapshot.json"
VALUES: dict[str, Any] = {
    "clientes": [client.nombre for client in CLIENTS],
    "transportistas": [carrier.nombre for carrier in CARRIERS],
    "centros": [centre[0] for centre in CENTRES],
    "regiones": [{"nombre": r.nombre, "codigo": r.codigo, "alias": list(r.alias)} for r in REGIONS],
    "comunas": [{"nombre": c, "region": r.nombre} for r in REGIONS for c, _ in r.comunas],
    "estados": ["cancelado", "en_reparto", "en_transito", "entregado", "fallido", "pendiente"],
}


@pytest.fixture(scope="module")
def vocabulary() -> DomainVocabulary:
    tools = []
    for entry in json.loads(SNAPSHOT.read_text("utf-8"))["tools"]:
        tool = FakeTool(entry["name"], rows(1))
        tool.description = entry["description"]
        tools.append(tool)
    return domain_vocabulary(tools, VALUES, "mintral")


def unmatched(question: str, vocabulary: DomainVocabulary) -> list[tuple[str, str]]:
    found = unresolved_names(find_names(question, vocabulary.is_domain_word), VALUES, question)
    return [(item.filter, item.text) for item in found]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("¿Transportes Pepito tiene servicios atrasados?",
         [("transportista", "Transportes Pepito")]),
        ("¿cuántos servicios tiene Falabella esta semana?", [("cliente", "Falabella")]),
        ("servicios atrasados en Puerto Montt", [("comuna", "Puerto Montt")]),
        ("cola crítica del centro de distribución Lo Espejo", [("centro", "Lo Espejo")]),
        ("rendimiento de la región de Los Lagos", [("region", "Los Lagos")]),
        ("cola crítica del cliente zorbax", [("cliente", "zorbax")]),
        ("cuántas entregas hubo en Lo Barnechea ayer", [("comuna", "Lo Barnechea")]),
    ],
)  # fmt: skip
def test_names_the_catalogue_lacks_are_found(question, expected, vocabulary):
    assert unmatched(question, vocabulary) == expected


@pytest.mark.parametrize(
    "question",
    [
        "Muéstrame la cola crítica de hoy",
        "¿Cómo cerramos ayer en la RM? Pásame los KPIs del centro de control",
        "¿Qué servicios críticos tenemos en la Quinta región? Dame los 10 más urgentes",
        "¿Cuál es la Cola Crítica de Mintral?",
        "servicios del conductor Juan Pérez Soto",
        "¿dónde está la patente KXBR27?",
        "detalle del SV-0000001",
        "servicios de Andes Market en Viña del Mar",
        "rendimiento de Pehuén y Transrapdo",
        "servicios de la comuna de La Florida",
        "Show me the critical queue for Santiago",
        "Dame la cola crítica del Centro de Control",
        "indicadroes del centro de contol de ayer",
        "Torre de control de hoy por comuna en la Región Metropolitana",
        "Compara el cumplimiento de los transportistas en la Región del Biobío este mes",
        "¿cómo le fue a cada transportista con ElectroSur en noviembre?",
    ],
)
def test_codes_plates_drivers_known_values_and_ordinary_words_are_not_unmatched(
    question, vocabulary
):
    assert unmatched(question, vocabulary) == []


@pytest.mark.parametrize(
    ("question", "signal"),
    [
        ("¿Transportes Pepito tiene servicios atrasados?", True),
        ("¿cuántos fallidos hubo el martes?", True),
        ("detalle SV-0000123", True),
        ("¿qué transportistas hay en el sistema?", True),
        ("rendimeinto de transportistas de la semana", True),
        ("indicadroes del centro de contol de ayer", True),
        ("¿quién ganó el partido de Colo-Colo ayer?", False),
        ("¿va a llover mañana en Santiago?", False),
        ("¿Cuánto gana en promedio un conductor en Chile?", False),
        ("cuéntame un chiste", False),
    ],
)
def test_domain_signal_is_the_tools_and_catalogues_words_not_dates_or_places(
    question, signal, vocabulary
):
    names = [m.text for m in find_names(question, vocabulary.is_domain_word)]
    assert vocabulary.has_signal(question, ignore=names) is signal


def test_a_value_the_question_does_not_name_is_a_substitute(vocabulary):
    args = {"cliente": "Farmacias Cordillera", "region": "Metropolitana"}

    found = ungrounded_values(
        args, "kpis de farmacias ahumada hoy", VALUES, {}, vocabulary.is_filler
    )

    assert [(f.filter, f.text) for f in found] == [("cliente", "farmacias ahumada")]
    assert found[0].suggestions[0] == "Farmacias Cordillera"


@pytest.mark.parametrize(
    ("question", "args", "carried"),
    [
        ("cola crítica de Farmacia Cordilera", {"cliente": "Farmacias Cordillera"}, {}),
        ("rendimiento de pehuen", {"transportista": "Envíos Pehuén"}, {}),
        ("servicios en Viña", {"comuna": "Viña del Mar"}, {}),
        ("¿y ayer?", {"transportista": "TransRápido"}, {"transportista": "TransRápido"}),
        ("cola crítica de Maipú", {"comuna": "Maipú", "region": "Metropolitana"}, {}),
    ],
)
def test_named_typed_carried_and_inferred_values_are_not_substitutes(
    question, args, carried, vocabulary
):
    assert ungrounded_values(args, question, VALUES, carried, vocabulary.is_filler) == []


def test_typos_and_parts_resolve_but_other_names_do_not():
    carriers = catalogue_spellings("transportista", VALUES)
    assert resolve_value("transrapdo", carriers) == "TransRápido"
    assert resolve_value("Pehuén", carriers) == "Envíos Pehuén"
    assert resolve_value("Transportes Pepito", carriers) is None
    comunas = catalogue_spellings("comuna", VALUES)
    assert resolve_value("Nunoa", comunas) == "Ñuñoa"
    assert resolve_value("Rancagua Norte", comunas) is None


@pytest.mark.parametrize("typed", ["KXBR27", "kxbr-27", "KXBR 27", "kxbr.27"])
def test_plates_take_the_stored_format(typed):
    assert normalise_plate(typed) == "KXBR-27"


def test_widening_an_asked_filter_drops_the_models_substitute(vocabulary):
    asked = ask_for_value(
        "kpis de farmacias ahumada hoy",
        "coordinador_centro_control",
        {"cliente": "Farmacias Cordillera", "fecha_desde": "2026-11-25"},
        ungrounded_values(
            {"cliente": "Farmacias Cordillera"}, "kpis de farmacias ahumada hoy", VALUES, {},
            vocabulary.is_filler,
        ),
    )  # fmt: skip
    pending = PendingClarification.model_validate(asked.model_dump(mode="json"))
    widened = resume(pending, asked.options[-1].message, VALUES)

    assert widened is not None and widened.args == {"fecha_desde": "2026-11-25"}
    chosen = resume(pending, "1", VALUES)
    assert chosen is not None and chosen.args["cliente"] == "Farmacias Cordillera"


def test_a_long_message_after_a_clarification_is_a_new_question(vocabulary):
    asked = ask_for_value(
        "¿Transportes Pepito tiene atrasados?", "coordinador_cola_critica", {},
        unresolved_names(
            find_names("¿Transportes Pepito tiene atrasados?", vocabulary.is_domain_word),
            VALUES, "¿Transportes Pepito tiene atrasados?",
        ),
    )  # fmt: skip

    assert resume(asked, "era TransRápido", VALUES) is not None
    assert (
        resume(asked, "rendimiento de TransRápido en la región de Valparaíso hoy", VALUES) is None
    )


def test_a_typo_of_a_tools_word_points_to_that_tool(vocabulary):
    assert vocabulary.ranked_tools("rendimeinto de la semana")[0] == (
        "coordinador_rendimiento_transportista"
    )


def test_a_correction_may_name_a_value_of_another_filter(vocabulary):
    question = "¿cuántos atrasados tiene Starken en Temuco?"
    asked = ask_for_value(
        question, "coordinador_conteo_servicios", {"eta_clasificacion": "atrasado"},
        unresolved_names(find_names(question, vocabulary.is_domain_word), VALUES, question),
    )  # fmt: skip

    resumed = resume(asked, "perdón, quise decir Ruta Sur", VALUES)

    assert resumed is not None
    assert resumed.args == {"eta_clasificacion": "atrasado", "transportista": "Ruta Sur"}
