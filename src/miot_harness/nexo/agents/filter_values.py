"""Filter values normalised to the catalogue's spelling; what cannot be resolved is dropped."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from miot_harness.language.normalise import fold_phrase as fold
from miot_harness.models.seat_protocol import VALUE_LIST_KEYS


def _resolve(value: str, spellings: dict[str, str]) -> str | None:
    return spellings.get(fold(value))


def _region_spellings(regions: list[Any]) -> dict[str, str]:
    spellings: dict[str, str] = {}
    for region in regions:
        if isinstance(region, dict) and isinstance(region.get("nombre"), str):
            name = region["nombre"]
            for alias in [name, region.get("codigo"), *(region.get("alias") or [])]:
                if isinstance(alias, str):
                    spellings.setdefault(fold(alias), name)
    return spellings


def _spellings(name: str, values: dict[str, Any]) -> dict[str, str] | None:
    """Folded spelling → canonical value for one argument, or None when not in the catalogue."""
    if name == "region" and isinstance(values.get("regiones"), list):
        return _region_spellings(values["regiones"])
    if name == "comuna" and isinstance(values.get("comunas"), list):
        names = [c["nombre"] for c in values["comunas"] if isinstance(c, dict) and "nombre" in c]
        return {fold(n): n for n in names if isinstance(n, str)}
    key = VALUE_LIST_KEYS.get(name)
    if key and isinstance(values.get(key), list):
        return {fold(v): v for v in values[key] if isinstance(v, str)}
    return None


def normalise_args(
    args: dict[str, Any], input_model: type[BaseModel], values: dict[str, Any]
) -> dict[str, Any]:
    """Arguments named without `p_`, only the tool's own, empty values and unknown spellings out."""
    fields = input_model.model_fields
    normalised: dict[str, Any] = {}
    for raw_name, value in args.items():
        name = raw_name.removeprefix("p_")
        if name not in fields or value is None or value == "":
            continue
        spellings = _spellings(name, values) if isinstance(value, str) else None
        if spellings is None:
            normalised[name] = value
        elif (resolved := _resolve(value, spellings)) is not None:
            normalised[name] = resolved
    return normalised
