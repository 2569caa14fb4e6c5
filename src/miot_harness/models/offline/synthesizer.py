"""The synthesizer seat: a short Spanish Markdown answer written only from the evidence.

One template per return shape (json KPIs as a list, tables as a Markdown table of the shown
rows with "mostrando N de TOTAL", scalars as one sentence). Values are copied, never
computed, so every number in the answer is in the evidence; text values are cut short and
escaped, so a hostile `notas` string is shown as data and changes nothing.
"""

from __future__ import annotations

import re
from typing import Any

from miot_harness.models.offline.evidence import Evidence, citation, read_evidence
from miot_harness.models.offline.prompt import SeatPrompt
from miot_harness.models.seat_protocol import SECTION_STATUS

MAX_CELL = 40
MAX_VALUE = 200
MAX_COLUMNS = 8
MAX_LABEL_COLUMNS = 4
MAX_ITEMS = 5
# Output keys that describe the result rather than answer the question.
_META_KEYS = {"source", "layer", "domain", "truncated", "total_count", "rows", "data", "value"}
_CODE = re.compile(r"^[A-Z]{1,4}-\d+$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T")
LONG_TEXT = 30


def title(tool: str) -> str:
    """ "coordinador_cola_critica" -> "Cola critica"."""
    name = tool.split("_", 1)[1] if "_" in tool else tool
    return name.replace("_", " ").capitalize()


def _flat(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "sí" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_flat(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_flat(v) for v in value)
    return str(value)


def cell(value: Any, limit: int = MAX_CELL) -> str:
    """A value as one line of text, cut at `limit`, with no Markdown table breakers."""
    text = " ".join(_flat(value).split()).replace("|", "/").replace("`", "'")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _is_stamp(key: str) -> bool:
    return key.startswith("refreshed_at")


def _label(key: str) -> str:
    return key.replace("_", " ")


def render_kpis(data: dict[str, Any]) -> list[str]:
    """A compact list; a nested object or list of objects gets one sub-bullet per entry."""
    lines: list[str] = []
    for key, value in data.items():
        if _is_stamp(key):
            continue
        if isinstance(value, dict) and value:
            lines.append(f"- **{_label(key)}**:")
            lines += [f"  - {_label(k)}: {cell(v, MAX_VALUE)}" for k, v in value.items()]
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            lines.append(f"- **{_label(key)}**:")
            lines += [f"  - {cell(item, MAX_VALUE)}" for item in value[:MAX_ITEMS]]
            if len(value) > MAX_ITEMS:
                lines.append("  - …")
        else:
            lines.append(f"- **{_label(key)}**: {cell(value, MAX_VALUE)}")
    return lines


def _column_kind(values: list[Any]) -> int:
    """Codes first, then short labels, then measures, then times, then long free text."""
    present = [v for v in values if v is not None]
    texts = [v for v in present if isinstance(v, str)]
    if present and len(texts) == len(present):
        if all(_CODE.match(v) for v in texts):
            return 0
        if all(_TIMESTAMP.match(v) for v in texts):
            return 3
        return 4 if max(len(v) for v in texts) > LONG_TEXT else 1
    return 2


def table_columns(rows: list[dict[str, Any]]) -> list[str]:
    """The columns worth showing: identifiers and a few labels, then the measures."""
    keys = [k for k in rows[0] if not _is_stamp(k) and k != "total_count"]
    kinds = {k: _column_kind([row.get(k) for row in rows]) for k in keys}
    codes = [k for k in keys if kinds[k] == 0]
    labels = [k for k in keys if kinds[k] == 1]
    rest = sorted((k for k in keys if kinds[k] >= 2), key=lambda k: kinds[k])
    ordered = [*codes, *labels[:MAX_LABEL_COLUMNS], *rest, *labels[MAX_LABEL_COLUMNS:]]
    return ordered[:MAX_COLUMNS]


def render_table(rows: list[dict[str, Any]], total: Any) -> list[str]:
    total_text = cell(total if total is not None else len(rows))
    if not rows:
        return [f"No hay resultados para esos filtros (total: {total_text})."]
    columns = table_columns(rows)
    lines = [
        "| " + " | ".join(_label(c) for c in columns) + " |",
        "| " + " | ".join("---" for _ in columns) + " |",
    ]
    lines += ["| " + " | ".join(cell(row.get(c)) for c in columns) + " |" for row in rows]
    lines += ["", f"_Mostrando {len(rows)} de {total_text}._"]
    return lines


def render_evidence(item: Evidence) -> list[str]:
    lines = [f"**{title(item.tool)}**"]
    if item.rows is not None:
        lines += render_table(item.rows, item.total)
    elif isinstance(item.output.get("data"), dict):
        lines += render_kpis(item.output["data"])
    elif "value" in item.output:
        lines.append(f"Resultado: **{cell(item.output['value'])}**.")
    else:
        extra = {k: v for k, v in item.output.items() if k not in _META_KEYS}
        lines += render_kpis(extra) or ["Sin datos en la respuesta de la herramienta."]
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
    blocks = ["\n".join(render_evidence(item)) for item in items]
    note = f"_Fuente: Coordinador; {citation(items, prompt.now)}._"
    if warn:
        note += (
            "\n\n⚠️ **Atención:** los datos no están al día (superan el umbral de frescura); "
            "confírmalos antes de actuar."
        )
    return "\n\n".join([*blocks, note])
