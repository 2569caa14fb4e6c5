"""Result keys and values in the operator's Spanish: labels, Chilean numbers, local times.

Labels are derived from the key itself ("n_criticos" -> "Críticos", "tasa_cumplimiento_pct"
-> "Tasa cumplimiento"), never from a per-tool table, so a new function reads well too.
Numbers keep every digit they had in the evidence (only separators change), so each one
stays traceable.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Any

PERCENT_TOKEN = "pct"
COUNT_PREFIX = "n"
# Words a key spells without accents or in lower case that Spanish readers expect otherwise.
_SPELLING = {
    "eta": "ETA", "pod": "POD", "kpi": "KPI", "kpis": "KPIs", "rm": "RM", "id": "ID",
    "critico": "crítico", "criticos": "críticos", "critica": "crítica", "transito": "tránsito",
    "region": "región", "codigo": "código", "dias": "días", "numero": "número",
    "clasificacion": "clasificación", "distribucion": "distribución",
}  # fmt: skip
_NUMBER_TEXT = re.compile(r"-?\d+(?:\.\d+)?")
_TIMESTAMP_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def words(key: str) -> list[str]:
    """The key's words, accents and acronyms restored, without the count and percent marks."""
    tokens = [t for t in str(key).split("_") if t]
    if len(tokens) > 1 and tokens[0] == COUNT_PREFIX:
        tokens = tokens[1:]
    return [_SPELLING.get(t.lower(), t) for t in tokens if t.lower() != PERCENT_TOKEN]


def is_percent(key: str) -> bool:
    return PERCENT_TOKEN in str(key).lower().split("_")


def label(key: str) -> str:
    """ "n_eta_riesgo" -> "ETA riesgo"; "pct_a_tiempo" -> "% a tiempo"; "pct" -> "%"."""
    text = " ".join(words(key))
    if is_percent(key) and str(key).lower().startswith(PERCENT_TOKEN):
        text = f"% {text}".strip()
    return text[:1].upper() + text[1:] if text else str(key)


def number(value: float | int, *, percent: bool = False) -> str:
    """Chilean style: "1.203", "88,8 %"; decimals as in the evidence (one for a percentage)."""
    if percent:
        text = f"{float(value):,.1f}"
    elif isinstance(value, int) or float(value).is_integer():
        text = f"{int(value):,}"
    else:
        text = f"{value:,}"
    text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return f"{text} %" if percent else text


def local_time(value: str, zone: tzinfo | None) -> str | None:
    """An ISO timestamp with an offset as "25-11 11:51" in `zone`, or None if it is not one."""
    if zone is None or not _TIMESTAMP_TEXT.match(value):
        return None
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        return None
    if stamp.tzinfo is None:
        return None
    return f"{stamp.astimezone(zone):%d-%m %H:%M}"


def value_text(value: Any, key: str = "", zone: tzinfo | None = None) -> str | None:
    """A scalar as the operator reads it, or None when it is not a number or a timestamp."""
    if isinstance(value, bool):
        return "sí" if value else "no"
    if isinstance(value, int | float):
        return number(value, percent=is_percent(key))
    if isinstance(value, str):
        if _NUMBER_TEXT.fullmatch(value):
            parsed = float(value) if "." in value else int(value)
            return number(parsed, percent=is_percent(key))
        return local_time(value, zone)
    return None


_UNACCENT = str.maketrans("áéíóú", "aeiou")
_VOWELS = "aeiouáéíóú"


def value_words(value: str) -> str:
    """A category code in words, acronyms restored ("en_riesgo" -> "en riesgo", "sin_eta" ->
    "sin ETA")."""
    return " ".join(_SPELLING.get(t.lower(), t) for t in str(value).split("_") if t)


def plural(text: str) -> str:
    """The Spanish plural of one word ("comuna" -> "comunas", "región" -> "regiones"); a
    phrase or a word already ending in s stays as it is."""
    if not text or " " in text or text.endswith("s"):
        return text
    if text[-1] in _VOWELS:
        return text + "s"
    return text[:-2] + text[-2:].translate(_UNACCENT) + "es"
