"""The synthesizer seat: a short Spanish Markdown answer written only from the evidence.

One template per return shape (json KPIs as a list, tables as a Markdown table of the shown
rows with "mostrando N de TOTAL", scalars as one sentence). Values are copied, never
computed, so every number in the answer is in the evidence; text values are cut short and
escaped, so a hostile `notas` string is shown as data and changes nothing.
"""

from __future__ import annotations

from typing import Any

from miot_harness.models.offline.evidence import Evidence, citation, read_evidence
from miot_harness.models.offline.prompt import SeatPrompt
from miot_harness.models.seat_protocol import SECTION_STATUS

MAX_CELL = 40
MAX_COLUMNS = 8
# Output keys that describe the result rather than answer the question.
_META_KEYS = {"source", "layer", "domain", "truncated", "total_count", "rows", "data", "value"}


def title(tool: str) -> str:
    """ "coordinador_cola_critica" -> "Cola critica"."""
    name = tool.split("_", 1)[1] if "_" in tool else tool
    return name.replace("_", " ").capitalize()


def cell(value: Any) -> str:
    """A value as table/list text: short, one line, no Markdown table breakers."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "sí" if value else "no"
    if isinstance(value, dict):
        text = ", ".join(f"{k} {cell(v)}" for k, v in value.items())
    elif isinstance(value, list):
        text = ", ".join(cell(v) for v in value)
    else:
        text = str(value)
    text = " ".join(text.split()).replace("|", "/").replace("`", "'")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1].rstrip() + "…"


def _is_stamp(key: str) -> bool:
    return key.startswith("refreshed_at")


def render_kpis(data: dict[str, Any]) -> list[str]:
    return [
        f"- **{key.replace('_', ' ')}**: {cell(v)}" for key, v in data.items() if not _is_stamp(key)
    ]


def render_table(rows: list[dict[str, Any]], total: Any) -> list[str]:
    total_text = cell(total if total is not None else len(rows))
    if not rows:
        return [f"No hay resultados para esos filtros (total: {total_text})."]
    columns = [k for k in rows[0] if not _is_stamp(k) and k != "total_count"][:MAX_COLUMNS]
    lines = [
        "| " + " | ".join(c.replace("_", " ") for c in columns) + " |",
        "| " + " | ".join("---" for _ in columns) + " |",
    ]
    lines += ["| " + " | ".join(cell(row.get(c)) for c in columns) + " |" for row in rows]
    shown = len(rows)
    lines.append("")
    lines.append(f"_Mostrando {shown} de {total_text}._")
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
