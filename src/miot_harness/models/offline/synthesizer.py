"""The synthesizer seat: a short Spanish Markdown answer written only from the evidence.

It opens with the sentence that answers (a ranking's first row and its ties, a count with
its filters in words, a KPI headline, a record's state, or that nothing matched), then a
KPI document as a labelled list; rows are not repeated, since the harness appends every
returned row as a table under the answer. Values are copied, never computed (only
separators and time zones change), so every number in the answer is in the evidence.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from miot_harness.evidence_table import cell, is_stamp
from miot_harness.models.offline.evidence import Evidence, citation, read_evidence
from miot_harness.models.offline.lead import (
    count_sentence,
    detail_sentence,
    kpi_sentence,
    list_sentence,
    ranking_sentence,
    today_of,
)
from miot_harness.models.offline.prompt import SeatPrompt
from miot_harness.models.seat_protocol import SECTION_STATUS
from miot_harness.wording import label

MAX_VALUE = 200
MAX_ITEMS = 5
# Output keys that describe the result rather than answer the question.
_META_KEYS = {
    "source", "layer", "domain", "truncated", "total_count", "rows", "data", "value",
    "order_by", "ranked_rows", "tied_rows",
}  # fmt: skip


def title(item: Evidence) -> str:
    """The tool's own title when the evidence carries it, else its name made readable."""
    if item.title:
        return item.title
    name = item.tool.split("_", 1)[1] if "_" in item.tool else item.tool
    return label(name)


def render_kpis(data: dict[str, Any], zone: tzinfo | None = None) -> list[str]:
    """A compact list; a nested object or list of objects gets one sub-bullet per entry."""
    lines: list[str] = []
    for key, value in data.items():
        if is_stamp(key):
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


def render_evidence(item: Evidence, prompt: SeatPrompt, zone: tzinfo | None) -> list[str]:
    """The opening sentence of one evidence item, then a document's fields as a list."""
    today = today_of(prompt.now)
    if item.rows is not None:
        order = item.order_by
        if item.rows and order is not None and item.rows[0].get(order[0]) is not None:
            return [ranking_sentence(item, zone, today, prompt.question)]
        return [list_sentence(item, title(item), today)]
    data = item.output.get("data")
    if isinstance(data, dict):
        lead = detail_sentence(data, zone) or kpi_sentence(item, data, today)
        return [lead, "", *render_kpis(data, zone)] if lead else render_kpis(data, zone)
    if "value" in item.output:
        return [count_sentence(item, item.output["value"], today, title(item))]
    extra = {k: v for k, v in item.output.items() if k not in _META_KEYS}
    return render_kpis(extra, zone) or ["Sin datos en la respuesta de la herramienta."]


def answer(prompt: SeatPrompt) -> str:
    items = read_evidence(prompt)
    if not items:
        return "No tengo evidencia de las herramientas para responder esta pregunta."
    status = prompt.json_section(SECTION_STATUS)
    warn = isinstance(status, dict) and status.get("freshness") == "warn"
    warn = warn or any(item.is_stale for item in items)
    zone = prompt.now.tzinfo if prompt.now else None
    blocks = ["\n".join(render_evidence(item, prompt, zone)) for item in items]
    note = f"_Fuente: Coordinador; {citation(items, prompt.now)}._"
    if warn:
        note += (
            "\n\n⚠️ **Atención:** los datos no están al día (superan el umbral de frescura); "
            "confírmalos antes de actuar."
        )
    return "\n\n".join([*blocks, note])
