"""A ranked step's rows: sorted by one column over every row held, ties kept together."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from miot_harness.schemas import OrderBy

Row = dict[str, Any]
# Ties a model reads beyond its row cap: enough to name them, never a whole table.
MAX_TIES = 10


def _sortable(value: Any) -> tuple[int, float | str]:
    """Numbers (numeric text too) compare as numbers, anything else as text after them."""
    if isinstance(value, bool):
        return (1, str(value))
    if isinstance(value, int | float):
        return (0, float(value))
    try:
        return (0, float(value))
    except (TypeError, ValueError):
        return (1, str(value))


def sort_rows(rows: Sequence[Row], order_by: OrderBy) -> list[Row]:
    """Rows by `order_by`; equal values keep the function's order, empty values go last."""
    column = order_by.column
    present = [row for row in rows if row.get(column) is not None]
    missing = [row for row in rows if row.get(column) is None]
    # sorted() is stable with reverse=True too: ties stay in the function's order.
    ranked = sorted(
        present, key=lambda row: _sortable(row[column]), reverse=order_by.direction == "desc"
    )
    return [*ranked, *missing]


def leaders(rows: Sequence[Row], column: str) -> list[Row]:
    """The first row of a ranking and every row tied with it."""
    if not rows or rows[0].get(column) is None:
        return list(rows[:1])
    first = _sortable(rows[0][column])
    return [row for row in rows if row.get(column) is not None and _sortable(row[column]) == first]


def rows_for_model(rows: Sequence[Row], order_by: OrderBy, cap: int) -> list[Row]:
    """The top `cap` rows, plus rows tied with the first (up to `MAX_TIES`), so a model can
    name the ties; how many there are in all is stated apart (`tied_rows`)."""
    tied = leaders(rows, order_by.column)
    return list(rows[: max(cap, min(len(tied), MAX_TIES))])
