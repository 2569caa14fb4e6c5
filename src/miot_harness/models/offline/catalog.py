"""The tool catalogue as the filter expert's prompt states it: names, descriptions, schemas."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ToolSpec:
    """One entry of `## Herramientas`: a tool's name, description and input JSON schema."""

    name: str
    description: str
    properties: tuple[str, ...]
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)
    output_columns: tuple[str, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)
    required: tuple[str, ...] = ()

    def accepts(self, argument: str) -> bool:
        return argument in self.properties


def _enum_values(schema: Any, defs: dict[str, Any]) -> tuple[str, ...]:
    """Every string enum or const reachable from one property schema (anyOf, $ref...)."""
    if not isinstance(schema, dict):
        return ()
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return _enum_values(defs.get(ref.rsplit("/", 1)[-1]), defs)
    found: list[str] = [v for v in schema.get("enum", []) if isinstance(v, str)]
    if isinstance(schema.get("const"), str):
        found.append(schema["const"])
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []) or []:
            found.extend(_enum_values(sub, defs))
    return tuple(dict.fromkeys(found))


def parse_tools(raw: Any) -> list[ToolSpec]:
    """ToolSpecs from the decoded `## Herramientas` JSON; malformed entries are skipped."""
    if not isinstance(raw, list):
        return []
    tools: list[ToolSpec] = []
    for entry in raw:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        schema = entry.get("input_schema") or {}
        props = schema.get("properties") if isinstance(schema, dict) else None
        props = props if isinstance(props, dict) else {}
        defs = schema.get("$defs", {}) if isinstance(schema, dict) else {}
        enums = {name: vals for name, sub in props.items() if (vals := _enum_values(sub, defs))}
        columns = entry.get("output_columns")
        tools.append(
            ToolSpec(
                name=entry["name"],
                description=str(entry.get("description") or ""),
                properties=tuple(props),
                enums=enums,
                output_columns=tuple(str(c) for c in columns)
                if isinstance(columns, dict | list)
                else (),
                defaults={
                    name: sub["default"]
                    for name, sub in props.items()
                    if isinstance(sub, dict) and sub.get("default") is not None
                },
                required=tuple(
                    name for name in (schema.get("required") or []) if isinstance(name, str)
                )
                if isinstance(schema, dict)
                else (),
            )
        )
    return tools
