"""PostgreSQL types (as introspected) to Python types for tool input and output models."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, Literal

PYTHON_TYPES: dict[str, Any] = {
    "boolean": bool,
    "smallint": int,
    "integer": int,
    "bigint": int,
    "numeric": float,
    "real": float,
    "double precision": float,
    "text": str,
    "character varying": str,
    "character": str,
    "name": str,
    "citext": str,
    "uuid": uuid.UUID,
    "date": dt.date,
    "timestamp without time zone": dt.datetime,
    "timestamp with time zone": dt.datetime,
    "time without time zone": dt.time,
    "interval": dt.timedelta,
    "json": Any,
    "jsonb": Any,
}
JSON_TYPES = frozenset({"json", "jsonb"})
TEXT_TYPES = frozenset({"text", "character varying", "character", "name", "citext"})


@dataclass(frozen=True)
class PgType:
    """One catalog type, resolved: domains point at their base, arrays at their element."""

    oid: int
    name: str
    sql_name: str
    kind: Literal["base", "domain", "enum", "array", "composite", "pseudo", "other"]
    labels: tuple[str, ...] = ()
    element: PgType | None = None
    base: PgType | None = None
    columns: tuple[tuple[str, PgType], ...] = ()

    def resolved(self) -> PgType:
        """The type with every domain peeled off."""
        return self.base.resolved() if self.kind == "domain" and self.base else self

    @property
    def is_json(self) -> bool:
        return self.resolved().name in JSON_TYPES

    @property
    def is_text(self) -> bool:
        return self.resolved().name in TEXT_TYPES


def python_type(pg_type: PgType) -> Any | None:
    """The Python type for a value of `pg_type`, or None when it has no plain JSON form."""
    resolved = pg_type.resolved()
    if resolved.kind == "enum":
        return Literal[resolved.labels] if resolved.labels else None
    if resolved.kind == "array":
        inner = python_type(resolved.element) if resolved.element else None
        return None if inner is None else list[inner]
    if resolved.kind == "base":
        return PYTHON_TYPES.get(resolved.name)
    return None


def with_labels(pg_type: PgType, labels: tuple[str, ...]) -> Any | None:
    """A Literal of `labels` for a text type (or a list of them for a text array)."""
    resolved = pg_type.resolved()
    if resolved.kind == "array" and resolved.element and resolved.element.is_text:
        return list[Literal[labels]]
    return Literal[labels] if pg_type.is_text else None


def build_types(rows: dict[str, dict[str, Any]]) -> dict[int, PgType]:
    """Link the introspected type rows (keyed by oid) into resolved `PgType` objects."""
    built: dict[int, PgType] = {}

    def build(oid: int) -> PgType:
        if oid in built:
            return built[oid]
        row = rows[str(oid)]
        element = row.get("element")
        base = row.get("base")
        pg_type = PgType(
            oid=oid,
            name=row["name"],
            sql_name=row["sql_name"],
            kind=row["kind"],
            labels=tuple(row.get("labels") or ()),
            element=build(element) if element and str(element) in rows else None,
            base=build(base) if base and str(base) in rows else None,
            columns=tuple(
                (column["name"], build(int(column["type"])))
                for column in row.get("columns") or ()
                if str(column["type"]) in rows
            ),
        )
        built[oid] = pg_type
        return pg_type

    for key in rows:
        build(int(key))
    return built
