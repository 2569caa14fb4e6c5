"""The comment parser (three formats, problems for lint) and the denylist."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from miot_harness.nexo.descriptions import (
    CommentFormat,
    ParsedDescription,
    is_denied,
    parse_pg_description,
)

CENTRO_CONTROL = """@meta
domain: centro_control
layer: L2
returns: json
side_effects: none
keywords: resumen, kpi, centro de control
enum.p_fecha_tipo: creacion|compromiso|entrega|eta
@end
Resumen de KPIs del centro de control para el rango y filtros dados."""


def test_meta_block():
    parsed = parse_pg_description(CENTRO_CONTROL)
    assert parsed == ParsedDescription(
        format=CommentFormat.META,
        summary="Resumen de KPIs del centro de control para el rango y filtros dados.",
        layer="L2",
        domain="centro_control",
        returns="json",
        side_effects="none",
        keywords=("resumen", "kpi", "centro de control"),
        enums={"p_fecha_tipo": ("creacion", "compromiso", "entrega", "eta")},
    )


@pytest.mark.parametrize("layer", ["L1", "L2", "L3", "VT"])
def test_layer_prefix(layer):
    parsed = parse_pg_description(f"{layer}: Cola crítica de servicios.\nMás detalle.")
    assert parsed.format is CommentFormat.LAYER and parsed.layer == layer
    assert parsed.summary == "Cola crítica de servicios.\nMás detalle."


def test_plain_text_and_no_comment():
    plain = parse_pg_description("Distribución de servicios por clasificación de ETA.")
    assert plain.format is CommentFormat.PLAIN and plain.layer is None
    assert plain.summary == "Distribución de servicios por clasificación de ETA."
    assert parse_pg_description(None).format is CommentFormat.NONE
    assert parse_pg_description("  \n ").format is CommentFormat.NONE


def test_meta_problems_are_precise():
    parsed = parse_pg_description("@meta\ndomain: x\ncolour: blue\nno colon here\n")
    assert parsed.problems == (
        "@meta block is not terminated by @end",
        "unknown @meta key 'colour' on line 3",
        "@meta line 4 is not 'key: value': 'no colon here'",
        "@meta block has no side_effects key",
    )
    assert parsed.domain == "x"


@pytest.mark.parametrize(
    ("name", "comment", "reason"),
    [
        ("fn_refresh_servicios", None, "fn_refresh_*"),
        ("fn_refresh_all", "@meta\nside_effects: none\n@end\n", "fn_refresh_*"),
        ("fn_dx_orchestrator", "Orquesta.", "fn_dx_orchestrator"),
        ("fn_dx_orchestrator_auto", None, "fn_dx_orchestrator_auto"),
        ("fn_dx_recalcular_eta", "@meta\nside_effects: writes_to_servicio\n@end\n", "writes_to"),
    ],
)
def test_denylist(name, comment, reason):
    denied = is_denied(name, parse_pg_description(comment))
    assert denied is not None and reason in denied


@pytest.mark.parametrize(
    ("name", "comment"),
    [
        ("fn_dx_cola_critica", "L2: Cola."),
        ("fn_dx_centro_control", CENTRO_CONTROL),
        ("fn_refreshment", None),
        ("fn_dx_orchestrator_manual", None),
        ("fn_dx_x", "Plain text mentioning side_effects: writes."),
    ],
)
def test_allowed_by_the_denylist(name, comment):
    assert is_denied(name, parse_pg_description(comment)) is None


@given(st.text())
def test_arbitrary_text_never_raises(text):
    parsed = parse_pg_description(text)
    assert (parsed.format is CommentFormat.NONE) == (not text.strip())
    if parsed.format is not CommentFormat.META:
        assert parsed.problems == () and parsed.side_effects is None
        assert is_denied("fn_dx_x", parsed) is None


@given(st.text(alphabet=st.characters(codec="utf-8"), min_size=1).map(lambda s: "@meta\n" + s))
def test_arbitrary_meta_bodies_never_raise(text):
    assert parse_pg_description(text).format is CommentFormat.META


WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzáéíóúñ_0123456789", min_size=1, max_size=12)
VALUE = st.lists(WORD, min_size=1, max_size=3).map(" ".join)
SUMMARY = st.text(
    alphabet=st.characters(blacklist_characters="\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
)


@st.composite
def meta_blocks(draw):
    fields = {key: draw(VALUE) for key in ("domain", "layer", "returns") if draw(st.booleans())}
    side_effects = draw(st.sampled_from(["none", "writes_to_servicio", "refresh"]))
    keywords = tuple(draw(st.lists(VALUE, max_size=4)))
    enums = draw(
        st.dictionaries(
            WORD.map(lambda w: "p_" + w),
            st.lists(WORD, min_size=1, max_size=5).map(tuple),
            max_size=3,
        )
    )
    summary = draw(SUMMARY).strip()
    lines = ["@meta", *(f"{k}: {v}" for k, v in fields.items()), f"side_effects: {side_effects}"]
    if keywords:
        lines.append("keywords: " + ", ".join(keywords))
    lines += [f"enum.{name}: {'|'.join(values)}" for name, values in enums.items()]
    lines += ["@end", summary]
    expected = ParsedDescription(
        format=CommentFormat.META,
        summary=summary,
        layer=fields.get("layer"),
        domain=fields.get("domain"),
        returns=fields.get("returns"),
        side_effects=side_effects,
        keywords=keywords,
        enums=enums,
    )
    return "\n".join(lines), expected


@given(meta_blocks())
def test_generated_meta_blocks_parse_back(case):
    text, expected = case
    assert parse_pg_description(text) == expected
    assert (is_denied("fn_dx_x", expected) is None) == (expected.side_effects == "none")
