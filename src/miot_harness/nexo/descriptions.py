"""`COMMENT ON FUNCTION` parsing (three formats) and the denylist that keeps writers out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

META_START = "@meta"
META_END = "@end"
META_KEYS = frozenset({"domain", "layer", "returns", "side_effects", "keywords"})
ENUM_KEY_PREFIX = "enum."
LAYER_PREFIX = re.compile(r"^\s*(L1|L2|L3|VT):\s*", re.DOTALL)
DENIED_NAMES = frozenset({"fn_dx_orchestrator", "fn_dx_orchestrator_auto"})
DENIED_NAME_PREFIX = "fn_refresh_"
NO_SIDE_EFFECTS = "none"


class CommentFormat(StrEnum):
    META = "meta"
    LAYER = "layer"
    PLAIN = "plain"
    NONE = "none"


@dataclass(frozen=True)
class ParsedDescription:
    """What a function's comment says; `problems` lists what `tools lint` reports."""

    format: CommentFormat
    summary: str = ""
    layer: str | None = None
    domain: str | None = None
    returns: str | None = None
    side_effects: str | None = None
    keywords: tuple[str, ...] = ()
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)
    problems: tuple[str, ...] = ()


def _split_list(value: str, separator: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(separator) if part.strip())


def _parse_meta(lines: list[str]) -> ParsedDescription:
    values: dict[str, str] = {}
    enums: dict[str, tuple[str, ...]] = {}
    problems: list[str] = []
    end = next((i for i, line in enumerate(lines) if line.strip() == META_END), None)
    if end is None:
        problems.append(f"{META_START} block is not terminated by {META_END}")
    body = lines[:end] if end is not None else lines
    summary = "\n".join(lines[end + 1 :]).strip() if end is not None else ""
    for number, line in enumerate(body, start=2):
        text = line.strip()
        if not text:
            continue
        key, colon, value = text.partition(":")
        key, value = key.strip(), value.strip()
        if not colon or not key:
            problems.append(f"{META_START} line {number} is not 'key: value': {text!r}")
        elif key.startswith(ENUM_KEY_PREFIX) and len(key) > len(ENUM_KEY_PREFIX):
            enums[key[len(ENUM_KEY_PREFIX) :]] = _split_list(value, "|")
        elif key in META_KEYS:
            values[key] = value
        else:
            problems.append(f"unknown {META_START} key {key!r} on line {number}")
    if "side_effects" not in values:
        problems.append(f"{META_START} block has no side_effects key")
    return ParsedDescription(
        format=CommentFormat.META,
        summary=summary,
        layer=values.get("layer") or None,
        domain=values.get("domain") or None,
        returns=values.get("returns") or None,
        side_effects=values.get("side_effects"),
        keywords=_split_list(values.get("keywords", ""), ","),
        enums=enums,
        problems=tuple(problems),
    )


def parse_pg_description(text: str | None) -> ParsedDescription:
    """Parse a comment in `@meta`, layer-prefix (`L2: …`) or plain format; never raises."""
    if text is None or not text.strip():
        return ParsedDescription(format=CommentFormat.NONE)
    lines = text.strip().splitlines()
    if lines[0].strip() == META_START:
        return _parse_meta(lines[1:])
    prefixed = LAYER_PREFIX.match(text)
    if prefixed:
        return ParsedDescription(
            format=CommentFormat.LAYER,
            summary=text[prefixed.end() :].strip(),
            layer=prefixed.group(1),
        )
    return ParsedDescription(format=CommentFormat.PLAIN, summary=text.strip())


def denied_by_name(name: str) -> str | None:
    """Why a function's name alone keeps it from being a tool, or None."""
    if name.startswith(DENIED_NAME_PREFIX):
        return f"denied by name pattern {DENIED_NAME_PREFIX}*"
    if name in DENIED_NAMES:
        return f"denied by name ({name})"
    return None


def is_denied(name: str, description: ParsedDescription) -> str | None:
    """Why a function may never become a tool, or None when the denylist lets it through."""
    if reason := denied_by_name(name):
        return reason
    if description.side_effects is not None and description.side_effects != NO_SIDE_EFFECTS:
        return f"denied by @meta side_effects: {description.side_effects}"
    return None
