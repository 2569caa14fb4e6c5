"""The synthesizer seat: a short Spanish Markdown answer written only from the evidence.

One template per return shape (json KPIs as a labelled list, tables as a Markdown table of
a few telling columns of the shown rows with "mostrando N de TOTAL", scalars as one
sentence). Values are copied, never computed (only separators and time zones change), so
every number in the answer is in the evidence; text values are cut short and
escaped, so a hostile `notas` string is shown as data and changes nothing.
"""

from __future__ import annotations

import re
from datetime import tzinfo
from enum import IntEnum
from typing import Any

from miot_harness.models.offline.evidence import Evidence, citation, read_evidence
from miot_harness.models.offline.prompt import SeatPrompt
from miot_harness.models.offline.wording import is_percent, label, value_text
from miot_harness.models.seat_protocol import SECTION_STATUS

MAX_CELL = 40
MAX_VALUE = 200
MAX_COLUMNS = 6
MAX_ITEMS = 5
# Output keys that describe the result rather than answer the question.
_META_KEYS = {"source", "layer", "domain", "truncated", "total_count", "rows", "data", "value"}
_CODE = re.compile(r"^[A-Z]{1,4}-\d+$")
_ENUM = re.compile(r"^[a-z]+(?:_[a-z]+)*$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]")
LONG_TEXT = 30


class ColumnKind(IntEnum):
    """What a column holds, in the order an operator scans a row."""

    CODE = 0
    ENUM = 1
    NAME = 2
    MEASURE = 3
    TIME = 4
    LONG_TEXT = 5


def title(item: Evidence) -> str:
    """The tool's own title when the evidence carries it, else its name made readable."""
    if item.title:
        return item.title
    name = item.tool.split("_", 1)[1] if "_" in item.tool else item.tool
    return label(name)


def _flat(value: Any, zone: tzinfo | None, key: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, dict):
        return "; ".join(f"{label(k)}: {_flat(v, zone, k)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_flat(v, zone, key) for v in value)
    shown = value_text(value, key, zone)
    return shown if shown is not None else str(value)


def cell(value: Any, limit: int = MAX_CELL, key: str = "", zone: tzinfo | None = None) -> str:
    """A value as one line of operator text, cut at `limit`, with no Markdown table breakers."""
    text = " ".join(_flat(value, zone, key).split()).replace("|", "/").replace("`", "'")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _is_stamp(key: str) -> bool:
    return key.startswith("refreshed_at")


def render_kpis(data: dict[str, Any], zone: tzinfo | None = None) -> list[str]:
    """A compact list; a nested object or list of objects gets one sub-bullet per entry."""
    lines: list[str] = []
    for key, value in data.items():
        if _is_stamp(key):
            continue
        if isinstance(value, dict) and value:
            lines.append(f"- **{label(key)}**:")
            lines += [f"  - {label(k)}: {cell(v, MAX_VALUE, k, zone)}" for k, v in value.items()]
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            lines.append(f"- **{label(key)}**:")
            lines += [f"  - {cell(item, MAX_VALUE, zone=zone)}" for item in value[:MAX_ITEMS]]
            if len(value) > MAX_ITEMS:
                lines.append("  - …")
        else:
            lines.append(f"- **{label(key)}**: {cell(value, MAX_VALUE, key, zone)}")
    return lines


def _column_kind(values: list[Any]) -> ColumnKind:
    present = [v for v in values if v is not None]
    texts = [v for v in present if isinstance(v, str)]
    if not present or len(texts) < len(present) or all(value_text(v) for v in texts):
        return ColumnKind.MEASURE
    if all(_CODE.match(v) for v in texts):
        return ColumnKind.CODE
    if all(_TIMESTAMP.match(v) for v in texts):
        return ColumnKind.TIME
    if max(len(v) for v in texts) > LONG_TEXT:
        return ColumnKind.LONG_TEXT
    return ColumnKind.ENUM if all(_ENUM.match(v) for v in texts) else ColumnKind.NAME


def table_columns(rows: list[dict[str, Any]], limit: int = MAX_COLUMNS) -> list[str]:
    """The few columns worth a glance, most telling first.

    Ordered by kind (the first identifier, then categories, names, measures with percentages
    first, times, long text) and, within a kind, by how much they vary across the rows: a
    column equal on every row (often a filter) says nothing per row.
    """
    keys = [k for k in rows[0] if not _is_stamp(k) and k != "total_count"]
    kinds = {k: _column_kind([row.get(k) for row in rows]) for k in keys}
    variety = {k: len({repr(row.get(k)) for row in rows}) for k in keys}
    constant = {k for k in keys if len(rows) > 1 and variety[k] == 1}
    codes = [k for k in keys if kinds[k] == ColumnKind.CODE]

    def rank(key: str) -> tuple[int, int, int, int]:
        spare_code = kinds[key] == ColumnKind.CODE and key != codes[0]
        kind = ColumnKind.LONG_TEXT if spare_code else kinds[key]
        return (key in constant, kind, not is_percent(key), -variety[key])

    return sorted(keys, key=rank)[:limit]


def _table_cell(value: Any, key: str, is_enum: bool, zone: tzinfo | None) -> str:
    """A cell; category codes read as words ("compromiso_hoy" -> "compromiso hoy")."""
    text = cell(value, key=key, zone=zone)
    return text.replace("_", " ") if is_enum else text


def render_table(rows: list[dict[str, Any]], total: Any, zone: tzinfo | None = None) -> list[str]:
    total_text = cell(total if total is not None else len(rows))
    if not rows:
        return [f"No hay resultados para esos filtros (total: {total_text})."]
    columns = table_columns(rows)
    enums = {c for c in columns if _column_kind([row.get(c) for row in rows]) == ColumnKind.ENUM}
    lines = [
        "| " + " | ".join(label(c) for c in columns) + " |",
        "| " + " | ".join("---" for _ in columns) + " |",
    ]
    lines += [
        "| " + " | ".join(_table_cell(row.get(c), c, c in enums, zone) for c in columns) + " |"
        for row in rows
    ]
    lines += ["", f"_Mostrando {len(rows)} de {total_text}._"]
    return lines


def render_evidence(item: Evidence, zone: tzinfo | None = None) -> list[str]:
    lines = [f"**{title(item)}**", ""]
    if item.rows is not None:
        lines += render_table(item.rows, item.total, zone)
    elif isinstance(item.output.get("data"), dict):
        lines += render_kpis(item.output["data"], zone)
    elif "value" in item.output:
        lines.append(f"Resultado: **{cell(item.output['value'], zone=zone)}**.")
    else:
        extra = {k: v for k, v in item.output.items() if k not in _META_KEYS}
        lines += render_kpis(extra, zone) or ["Sin datos en la respuesta de la herramienta."]
    if item.args:
        shown = ", ".join(f"{k}={cell(v)}" for k, v in item.args.items())
        lines += ["", f"Filtros: {shown}."]  # a blank line, or Markdown glues it to a list
    return lines


def answer(prompt: SeatPrompt) -> str:
    items = read_evidence(prompt)
    if not items:
        return "No tengo evidencia de las herramientas para responder esta pregunta."
    status = prompt.json_section(SECTION_STATUS)
    warn = isinstance(status, dict) and status.get("freshness") == "warn"
    warn = warn or any(item.is_stale for item in items)
    zone = prompt.now.tzinfo if prompt.now else None
    blocks = ["\n".join(render_evidence(item, zone)) for item in items]
    note = f"_Fuente: Coordinador; {citation(items, prompt.now)}._"
    if warn:
        note += (
            "\n\n⚠️ **Atención:** los datos no están al día (superan el umbral de frescura); "
            "confírmalos antes de actuar."
        )
    return "\n\n".join([*blocks, note])
