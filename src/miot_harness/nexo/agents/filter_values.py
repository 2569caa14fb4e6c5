"""Filter values resolved to the catalogue's spelling; what cannot be resolved is reported.

A value resolves when it is the catalogue's spelling or alias (case, accents and spacing
ignored, "n" accepted for "ñ", spaces and hyphens inside it too: "Logi Andes", "Trans-Rápido"),
a typo of exactly one value (`rapidfuzz` edit ratio), or the
words of exactly one value ("Pehuén" for "Envíos Pehuén", "Cordilera" for "Farmacias
Cordillera"). Anything else is
unresolved, with up to three near values as suggestions; the harness asks, it never drops.
Free-text filters (conductor, patente) are not in the catalogue: they are tidied only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from rapidfuzz import fuzz, process

from miot_harness.language.normalise import fold_phrase
from miot_harness.models.seat_protocol import VALUE_LIST_KEYS
from miot_harness.nexo.identity_cache import by_identity
from miot_harness.schemas import UnresolvedValue

# A typo of one value: "transrapdo" is TransRápido, "Rancagua Norte" is not Rancagua.
TYPO_MIN_RATIO = 88.0
# Near enough to be offered: "Transportes Pepito" suggests TransRápido; "Falabella" and
# "Starken" nothing.
SUGGESTION_MIN_SCORE = 66.0
MAX_SUGGESTIONS = 3
# A part of a value shorter than this ("cd", "la") names nothing on its own.
MIN_PART_CHARS = 4
# Filters whose values name a place, a company or a centre: what a question's names can be.
NAME_FILTERS = ("cliente", "transportista", "centro", "comuna", "region")
_PLATE = re.compile(r"^([A-Z]{4})(\d{2})$|^([A-Z]{2})(\d{4})$")
_NOT_ALNUM = re.compile(r"[\W_]+")


def match_key(text: str) -> str:
    """How a typed value is compared with the catalogue: folded, and "ñ" typed as "n"."""
    return fold_phrase(text).replace("ñ", "n")


def compact_key(text: str) -> str:
    """`match_key` without spaces and punctuation: "Logi Andes" and "Trans-Rápido" meet
    "LogiAndes" and "TransRápido"."""
    return _NOT_ALNUM.sub("", match_key(text))


def _region_spellings(regions: list[Any]) -> dict[str, str]:
    spellings: dict[str, str] = {}
    for region in regions:
        if isinstance(region, dict) and isinstance(region.get("nombre"), str):
            name = region["nombre"]
            for alias in [name, region.get("codigo"), *(region.get("alias") or [])]:
                if isinstance(alias, str):
                    spellings.setdefault(match_key(alias), name)
    return spellings


@by_identity(maxsize=64)
def catalogue_spellings(name: str, values: dict[str, Any]) -> dict[str, str] | None:
    """Typed spelling key → canonical value for one filter, or None when not in the catalogue;
    built once per catalogue and filter and shared, so callers never change it."""
    if name == "region" and isinstance(values.get("regiones"), list):
        return _region_spellings(values["regiones"])
    if name == "comuna" and isinstance(values.get("comunas"), list):
        names = [c["nombre"] for c in values["comunas"] if isinstance(c, dict) and "nombre" in c]
        return {match_key(n): n for n in names if isinstance(n, str)}
    key = VALUE_LIST_KEYS.get(name)
    if key and isinstance(values.get(key), list):
        return {match_key(v): v for v in values[key] if isinstance(v, str)}
    return None


@by_identity(maxsize=64)
def part_spellings(spellings: dict[str, str]) -> dict[str, str]:
    """Each proper run of words of a value that belongs to that value alone → the value
    (shared per `spellings`, like `catalogue_spellings`)."""
    owners: dict[str, set[str]] = {}
    for spelling, canonical in spellings.items():
        tokens = spelling.split()
        runs = (
            " ".join(tokens[i:j])
            for i in range(len(tokens))
            for j in range(i + 1, len(tokens) + 1)
            if j - i < len(tokens)
        )
        for run in runs:
            owners.setdefault(run, set()).add(canonical)
    return {
        run: found.pop()
        for run, found in owners.items()
        if len(found) == 1 and len(run) >= MIN_PART_CHARS
    }


@by_identity(maxsize=64)
def compact_spellings(spellings: dict[str, str]) -> dict[str, str]:
    """Each spelling without spaces and punctuation → its value, when it names one value only
    (shared per `spellings`, like `catalogue_spellings`)."""
    owners: dict[str, set[str]] = {}
    for spelling, canonical in spellings.items():
        owners.setdefault(compact_key(spelling), set()).add(canonical)
    return {key: found.pop() for key, found in owners.items() if key and len(found) == 1}


def _by_typo(key: str, spellings: dict[str, str]) -> str | None:
    """The one value `key` is a typo of (two values as near mean no answer)."""
    near = process.extract(key, list(spellings), scorer=fuzz.ratio, score_cutoff=TYPO_MIN_RATIO)
    found = {spellings[spelling] for spelling, _, _ in near}
    return found.pop() if len(found) == 1 else None


def resolve_value(text: str, spellings: dict[str, str]) -> str | None:
    """The catalogue value `text` names, or None."""
    key = match_key(text)
    if not key:
        return None
    if key in spellings:
        return spellings[key]
    compact = compact_spellings(spellings)
    return (
        compact.get(compact_key(text))
        or _by_typo(key, spellings)
        or _by_typo(key, part_spellings(spellings))
        or _by_typo(compact_key(text), compact)
    )


def suggestions(text: str, spellings: dict[str, str]) -> list[str]:
    """Up to three catalogue values near `text`, nearest first; none when nothing is close."""
    canonical = sorted(set(spellings.values()))
    found = process.extract(
        match_key(text),
        {value: match_key(value) for value in canonical},
        scorer=fuzz.WRatio,
        limit=MAX_SUGGESTIONS,
        score_cutoff=SUGGESTION_MIN_SCORE,
    )
    return [value for _, _, value in found]


def normalise_plate(text: str) -> str:
    """A plate in the stored format: "kxbr27", "KXBR 27" and "KXBR-27" are "KXBR-27"."""
    bare = re.sub(r"[^A-Z0-9]", "", fold_phrase(text).upper())
    match = _PLATE.match(bare)
    if match is None:
        return text.strip().upper()
    letters, digits = (match.group(1), match.group(2)) if match.group(1) else match.group(3, 4)
    return f"{letters}-{digits}"


def normalise_driver(text: str) -> str:
    """A driver's name as stored (title case) when typed all in lower case."""
    name = " ".join(text.split())
    return name.title() if name.islower() else name


_FREE_TEXT = {"patente": normalise_plate, "conductor": normalise_driver}


@dataclass
class ResolvedArgs:
    """A step's arguments with catalogue spellings, and the values nothing matched."""

    args: dict[str, Any] = field(default_factory=dict)
    unresolved: list[UnresolvedValue] = field(default_factory=list)


def resolve_args(
    args: dict[str, Any], input_model: type[BaseModel], values: dict[str, Any]
) -> ResolvedArgs:
    """Arguments named without `p_`, only the tool's own, empty values out, text values
    resolved to the catalogue; a value it cannot resolve is reported, not kept."""
    fields = input_model.model_fields
    resolved = ResolvedArgs()
    for raw_name, value in args.items():
        name = raw_name.removeprefix("p_")
        if name not in fields or value is None or value == "":
            continue
        if isinstance(value, str) and name in _FREE_TEXT:
            resolved.args[name] = _FREE_TEXT[name](value)
            continue
        spellings = catalogue_spellings(name, values) if isinstance(value, str) else None
        if spellings is None:
            resolved.args[name] = value
        elif (canonical := resolve_value(value, spellings)) is not None:
            resolved.args[name] = canonical
        else:
            resolved.unresolved.append(
                UnresolvedValue(filter=name, text=value, suggestions=suggestions(value, spellings))
            )
    return resolved
