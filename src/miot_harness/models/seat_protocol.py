"""The written contract between the agent seats and any chat model that fills them.

Every seat's system prompt is `COORDINADOR_PRIMER`, a `# Asiento: <seat>` heading, the
seat's instructions, then `## <section>` blocks; JSON sections are fenced. Graph nodes
render prompts with these helpers and every model, the offline one included, reads them
back the same way, so the prompt format is defined once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, ValidationError

from miot_harness.schemas import OrderBy

Seat = Literal["filter_expert", "analyst", "synthesizer", "critic", "summarizer", "narrator"]
SEATS: tuple[Seat, ...] = (
    "filter_expert",
    "analyst",
    "synthesizer",
    "critic",
    "summarizer",
    "narrator",
)

SECTION_NOW = "Fecha y hora"
SECTION_TOOLS = "Herramientas"
SECTION_VALUES = "Valores válidos"
SECTION_PREVIOUS_PLAN = "Plan anterior"
SECTION_PLAN = "Plan actual"
SECTION_EVIDENCE = "Evidencia"
SECTION_ANSWER = "Respuesta"
SECTION_STATUS = "Estado"
PINNED_SECTIONS = (
    SECTION_NOW,
    SECTION_TOOLS,
    SECTION_VALUES,
    SECTION_PREVIOUS_PLAN,
    SECTION_PLAN,
    SECTION_EVIDENCE,
    SECTION_STATUS,
    SECTION_ANSWER,
)

# `## Valores válidos` is the `fn_dx_catalogo` dict: filter argument → the key of its
# plain string list (regions and comunas are lists of objects, read apart).
VALUE_LIST_KEYS: dict[str, str] = {
    "cliente": "clientes",
    "transportista": "transportistas",
    "centro": "centros",
    "canal": "canales",
    "tipo_servicio": "tipos_servicio",
    "estado": "estados",
    "prioridad": "prioridades",
    "eta_clasificacion": "eta_clasificaciones",
}

_SEAT_HEADING = re.compile(r"^# Asiento: (\w+)\s*$", re.MULTILINE)
# Only the pinned titles start a section: an answer under "## Respuesta" may have headings.
_SECTION_HEADING = re.compile(
    r"^## (" + "|".join(re.escape(t) for t in PINNED_SECTIONS) + r")[ \t]*\n?", re.MULTILINE
)
_FENCE = re.compile(r"^\s*```(?:json)?\s*\n?(.*?)\n?\s*```\s*$", re.DOTALL)
_WEEKDAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
_NOW_LINE = re.compile(r"Hoy es \w+ (\d{2})-(\d{2})-(\d{4}), (\d{2}):(\d{2}) \(([\w/+\-]+)\)")


class FilterDecision(BaseModel):
    """The filter expert's answer: one tool, its arguments and an optional ranking order.

    `tool: null` with `candidates` means the question fits several tools about equally (the
    harness asks which one); `tool: null` without them means it is out of scope.
    """

    tool: str | None
    args: dict[str, Any] = Field(default_factory=dict)
    order_by: OrderBy | None = None
    candidates: list[str] = Field(default_factory=list, max_length=3)
    rationale: str = ""


class AnalystVerdict(BaseModel):
    """The domain analyst's answer: is the evidence enough to answer the question?"""

    verdict: Literal["ready", "need_more"]
    reason: str = ""


class CriticReport(BaseModel):
    """The critic's answer: concerns about citation, staleness flags or tenant refusal."""

    ok: bool
    concerns: list[str] = Field(default_factory=list)


def seat_heading(seat: Seat) -> str:
    return f"# Asiento: {seat}"


def render_seat(seat: Seat, instructions: str, sections: Sequence[str] = ()) -> str:
    """A seat's prompt after the primer: its heading, its instructions, then its sections."""
    return "\n\n".join([seat_heading(seat), instructions, *sections])


def find_seat(text: str) -> str | None:
    """The seat a system prompt was written for, or None."""
    match = _SEAT_HEADING.search(text)
    return match.group(1) if match else None


def render_section(title: str, body: str) -> str:
    return f"## {title}\n{body.strip()}"


def render_json_section(title: str, value: Any) -> str:
    """A `## title` section holding `value` as compact JSON (no `indent`: that forces Python's
    slow encoder over the catalogue and the evidence on every seat call)."""
    payload = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return f"## {title}\n```json\n{payload}\n```"


def seat_part(text: str) -> str:
    """The prompt from the seat heading on (the whole text when it has none).

    Sections are read only there: whatever precedes the heading (the primer) is prose and
    can never be mistaken for a section, whatever headings it uses.
    """
    match = _SEAT_HEADING.search(text)
    return text[match.start() :] if match else text


def _line_starts(text: str, prefix: str) -> list[int]:
    """Where the lines starting with `prefix` start: `str.find` skips a section's body in C,
    where a multiline regex steps through it character by character."""
    starts = [0] if text.startswith(prefix) else []
    position = text.find("\n" + prefix)
    while position >= 0:
        starts.append(position + 1)
        position = text.find("\n" + prefix, position + 1)
    return starts


def read_sections(text: str) -> dict[str, str]:
    """Every pinned `## section` of a seat prompt, read in one pass; the first of a title wins."""
    part = seat_part(text)
    found = [
        match
        for start in _line_starts(part, "## ")
        if (match := _SECTION_HEADING.match(part, start)) is not None
    ]
    bodies: dict[str, str] = {}
    for current, following in zip(found, [*found[1:], None], strict=True):
        end = following.start() if following else len(part)
        bodies.setdefault(current.group(1), part[current.end() : end].strip())
    return bodies


def read_section(text: str, title: str) -> str | None:
    """The body of the pinned section `## title`, up to the next pinned section."""
    return read_sections(text).get(title)


def strip_json_fences(text: str) -> str:
    """The JSON inside a ```json fence, or the text itself when it has none."""
    match = _FENCE.match(text.strip())
    return match.group(1).strip() if match else text.strip()


ReplyT = TypeVar("ReplyT", bound=BaseModel)


def parse_reply(text: str, shape: type[ReplyT]) -> ReplyT | None:
    """A seat's JSON answer (fences stripped) as `shape`, or None when it is not one."""
    try:
        return shape.model_validate(json.loads(strip_json_fences(text)))
    except (json.JSONDecodeError, ValidationError):
        return None


def read_json_section(text: str, title: str) -> Any | None:
    body = read_section(text, title)
    if body is None:
        return None
    try:
        return json.loads(strip_json_fences(body))
    except json.JSONDecodeError:
        return None


def local_now_line(now: datetime, timezone: str) -> str:
    """ "Hoy es miércoles 25-11-2026, 08:55 (America/Santiago)" for `now` in `timezone`."""
    local = now.astimezone(ZoneInfo(timezone))
    weekday = _WEEKDAYS[local.weekday()]
    return f"Hoy es {weekday} {local:%d-%m-%Y, %H:%M} ({timezone})"


def parse_local_now_line(text: str) -> datetime | None:
    """The aware local datetime stated by a `local_now_line` anywhere in `text`."""
    match = _NOW_LINE.search(text)
    if not match:
        return None
    day, month, year, hour, minute, zone = match.groups()
    return datetime(int(year), int(month), int(day), int(hour), int(minute), tzinfo=ZoneInfo(zone))
