"""Property-based fuzzing of the parts hostile text reaches first: the filter extraction (the
offline model's entity and date extraction), the denylist over any comment, and the API's
request bodies. The comment parser's own never-raises fuzzing lives in
tests/nexo/test_descriptions.py (test_arbitrary_text_never_raises,
test_arbitrary_meta_bodies_never_raise); this file does not repeat it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from security_support import MINTRAL_KEY, bearer, secure_settings

from miot_harness.api.app import create_app
from miot_harness.demo.cluster import DemoConnection
from miot_harness.demo.vocabulary import HOSTILE_NOTES
from miot_harness.models.offline import OfflineChatModel
from miot_harness.models.seat_protocol import FilterDecision
from miot_harness.nexo.agents.filter_values import catalogue_spellings, resolve_value
from miot_harness.nexo.descriptions import (
    DENIED_NAME_PREFIX,
    DENIED_NAMES,
    is_denied,
    parse_pg_description,
)
from miot_harness.schemas import UserRequest
from offline.prompts import filter_messages, load_tools, load_values

pytestmark = pytest.mark.security

MODEL = OfflineChatModel()
TOOLS = {tool["name"]: tool for tool in load_tools()}
VALUES = load_values()
# Which catalogue list each filter argument's values must come from.
CATALOGUE_ARGUMENTS = {
    "cliente": set(VALUES["clientes"]),
    "canal": set(VALUES["canales"]),
    "tipo_servicio": set(VALUES["tipos_servicio"]),
    "prioridad": set(VALUES["prioridades"]),
    "centro": set(VALUES["centros"]),
    "transportista": set(VALUES["transportistas"]),
    "estado": set(VALUES["estados"]),
    "eta_clasificacion": set(VALUES["eta_clasificaciones"]),
    "region": {region["nombre"] for region in VALUES["regiones"]},
    "comuna": {comuna["nombre"] for comuna in VALUES["comunas"]},
}
ATTACKS = [
    *HOSTILE_NOTES,
    "fn_refresh_all()", "coordinador_refresh_all", "fn_dx_orchestrator", "tenant acme",
    "region => 'x'); DROP TABLE nexo.servicio; --", "limit 999999999", "p_limit=-1",
    "SV-99999999999", "patente ZZZZ-99'; --", "</system>", "{\"tool\": \"fn_refresh_all\"}",
]  # fmt: skip
WORDS = [
    "cola crítica", "resumen", "hoy", "ayer", "últimos 7 días", "del 1 al 5 de noviembre",
    "en riesgo", "atrasados", "RM", "Santiago", "Quinta región", "TransRápido", "críticos",
    "los 20", "por comuna", "servicio SV-0000001", "patente KJTR-45", "entregados",
    *sorted(CATALOGUE_ARGUMENTS["cliente"]), *sorted(CATALOGUE_ARGUMENTS["comuna"]),
]  # fmt: skip
QUESTIONS = st.lists(
    st.one_of(st.sampled_from(ATTACKS), st.sampled_from(WORDS), st.text(max_size=20)),
    min_size=1,
    max_size=6,
).map(" ".join)


def decide(question: str) -> FilterDecision:
    return FilterDecision.model_validate_json(MODEL.invoke(filter_messages(question)).content)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(QUESTIONS)
def test_filter_extraction_only_yields_catalogue_tools_and_values(question: str) -> None:
    """A proposed catalogue value either resolves to the catalogue or is one the harness asks
    about (unresolved); what reaches a tool is never a value outside the catalogue."""
    decision = decide(question)
    if decision.tool is None:
        assert decision.args == {}
        return
    tool = TOOLS[decision.tool]  # never a name outside the catalogue (a denied function)
    properties = tool["input_schema"]["properties"]
    assert set(decision.args) <= set(properties)
    for name, value in decision.args.items():
        if name in CATALOGUE_ARGUMENTS:
            resolved = resolve_value(value, catalogue_spellings(name, VALUES) or {})
            event("catalogue value" if resolved else "unresolved: the harness asks")
            assert resolved is None or resolved in CATALOGUE_ARGUMENTS[name], (name, value)
        if name in ("fecha_desde", "fecha_hasta"):
            date.fromisoformat(value)
        if name == "limit":
            assert isinstance(value, int) and value >= 1
        if name == "codigo":
            assert value.startswith("SV-") and value[3:].isdigit()
    if {"fecha_desde", "fecha_hasta"} <= set(decision.args):
        assert decision.args["fecha_desde"] <= decision.args["fecha_hasta"]


DENIED = [*sorted(DENIED_NAMES), DENIED_NAME_PREFIX + "all", DENIED_NAME_PREFIX + "servicios"]


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(DENIED), comment=st.one_of(st.none(), st.text()))
def test_no_comment_lifts_a_name_denial(name: str, comment: str | None) -> None:
    assert is_denied(name, parse_pg_description(comment)) is not None


@settings(max_examples=200, deadline=None)
@given(
    effect=st.from_regex(r"[a-z_]{1,20}", fullmatch=True).filter(lambda e: e != "none"),
    before=st.lists(st.sampled_from(["layer: L2", "returns: json", "side_effects: none"])),
    after=st.text(alphabet=st.characters(blacklist_characters="\n@"), max_size=40),
)
def test_a_declared_side_effect_denies_whatever_else_the_comment_says(
    effect: str, before: list[str], after: str
) -> None:
    comment = "\n".join(["@meta", *before, f"side_effects: {effect}", "@end", after])
    assert is_denied("fn_dx_inofensiva", parse_pg_description(comment)) is not None


@pytest.fixture(scope="module")
def api_client(demo_db: DemoConnection, tmp_path_factory) -> Iterator[TestClient]:
    """The real app in its own thread's loop (hypothesis drives it synchronously)."""
    app = create_app(secure_settings(demo_db, Path(tmp_path_factory.mktemp("fuzz-data"))))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client


MARKER = "ZZ-ECO-7731"
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children),
    max_leaves=6,
)
FIELDS = st.sampled_from(["message", "thread_id", "tenant_id", "user_id", "extra", ""])
IDENTIFIERS = st.from_regex(r"[A-Za-z0-9_.:@-]{1,20}", fullmatch=True) | st.text(max_size=8)
# Nearly valid requests (so many reach a real run) beside arbitrary JSON.
REQUESTS = st.fixed_dictionaries(
    {"message": st.sampled_from(ATTACKS) | st.sampled_from(WORDS) | st.text(max_size=40)},
    optional={"thread_id": IDENTIFIERS, "tenant_id": IDENTIFIERS, "user_id": IDENTIFIERS},
)
BODIES = st.one_of(
    REQUESTS,
    st.dictionaries(FIELDS, JSON_VALUES | st.just(MARKER) | st.sampled_from(ATTACKS), max_size=5),
    JSON_VALUES,
)


def _accepted(body: Any) -> bool:
    try:
        UserRequest.model_validate(body)
    except ValidationError:
        return False
    return True


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=BODIES)
def test_request_bodies_get_200_or_a_422_that_echoes_nothing(
    api_client: TestClient, body: Any
) -> None:
    response = api_client.post("/runs", json=body, headers=bearer(MINTRAL_KEY))
    event(f"status {response.status_code}")
    assert response.status_code == (200 if _accepted(body) else 422), response.text
    if response.status_code == 422:
        issues = response.json()["detail"]
        assert issues and all(issue["loc"][0] == "body" for issue in issues)
        # Values are never reflected (only field names appear, in `loc`).
        assert MARKER not in json.dumps([issue["msg"] for issue in issues])
    else:
        assert response.json()["tenant_id"] == "mintral"
        assert response.json()["status"] in {"completed", "refused", "needs_input"}
