"""Evidence rows as the Markdown table a person reads under an answer, in operator words.

The harness appends it after a model's prose and the offline model reads rows with the same
column rules, so the table is rendered one way. Values are copied, never computed (only
separators and time zones change); text is cut short and escaped, so a hostile `notas`
string is shown as data and changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import tzinfo
from enum import IntEnum
from typing import Any

from miot_harness.schemas import OrderBy
from miot_harness.wording import is_percent, label, number, value_text

MAX_CELL = 40
MAX_COLUMNS = 6
LONG_TEXT = 30
TOTAL_COUNT = "total_count"
_CODE = re.compile(r"^[A-Z]{1,4}-\d+$")
_ENUM = re.compile(r"^[a-z]+(?:_[a-z]+)*$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]")


class ColumnKind(IntEnum):
    """What a column holds, in the order an operator scans a row."""

    CODE = 0
    ENUM = 1
    NAME = 2
    MEASURE = 3
    TIME = 4
    LONG_TEXT = 5


def is_stamp(key: str) -> bool:
    """A refresh stamp column (`refreshed_at_*`): cited once, never a table column."""
    return key.startswith("refreshed_at")


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


def column_kind(values: Sequence[Any]) -> ColumnKind:
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


def row_keys(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The data columns of the rows, in their order (no refresh stamps, no total)."""
    return [k for k in rows[0] if not is_stamp(k) and k != TOTAL_COUNT] if rows else []


def table_columns(
    rows: Sequence[dict[str, Any]], limit: int = MAX_COLUMNS, keep: str | None = None
) -> list[str]:
    """The few columns worth a glance, most telling first; `keep` (a ranking's column) stays.

    Ordered by kind (the first identifier, then categories, names, measures with percentages
    first, times, long text) and, within a kind, by how much they vary across the rows: a
    column equal on every row (often a filter) says nothing per row.
    """
    keys = row_keys(rows)
    kinds = {k: column_kind([row.get(k) for row in rows]) for k in keys}
    variety = {k: len({repr(row.get(k)) for row in rows}) for k in keys}
    constant = {k for k in keys if len(rows) > 1 and variety[k] == 1}
    codes = [k for k in keys if kinds[k] == ColumnKind.CODE]

    def rank(key: str) -> tuple[int, int, int, int]:
        spare_code = kinds[key] == ColumnKind.CODE and key != codes[0]
        kind = ColumnKind.LONG_TEXT if spare_code else kinds[key]
        return (key in constant, kind, not is_percent(key), -variety[key])

    chosen = sorted(keys, key=rank)[:limit]
    if keep in keys and keep not in chosen:
        chosen = sorted([*chosen[: limit - 1], keep], key=rank)
    return chosen


def _table_cell(value: Any, key: str, is_enum: bool, zone: tzinfo | None) -> str:
    """A cell; category codes read as words ("compromiso_hoy" -> "compromiso hoy")."""
    text = cell(value, key=key, zone=zone)
    return text.replace("_", " ") if is_enum else text


def order_note(order_by: OrderBy, ranked: int | None, total: int | None) -> str:
    """How a ranked table is ordered, and how much of the function's result it covers."""
    way = "de mayor a menor" if order_by.direction == "desc" else "de menor a mayor"
    text = f"Ordenado por {label(order_by.column).lower()}, {way}"
    if ranked is not None and total is not None and ranked < total:
        text += (
            f"; el orden cubre las primeras {number(ranked)} filas de {number(total)}, "
            "en el orden de la función"
        )
    return text + "."


def render_table(
    rows: Sequence[dict[str, Any]],
    total: Any,
    zone: tzinfo | None = None,
    keep: str | None = None,
) -> list[str]:
    """The rows as a Markdown table, then "Mostrando N de TOTAL"; one sentence when empty."""
    total_text = cell(total if total is not None else len(rows))
    if not rows:
        return [f"No hay resultados para esos filtros (total: {total_text})."]
    columns = table_columns(rows, keep=keep)
    enums = {c for c in columns if column_kind([row.get(c) for row in rows]) == ColumnKind.ENUM}
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
