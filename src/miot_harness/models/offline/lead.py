"""The sentence an answer opens with, read off one evidence item's shape, keys and filters.

A ranking names its first row and every tie; a count says the number with the filters in
words; a KPI document leads with its total, percentage and counts; a detail document with
its state, last event, carrier and POD; an empty result says that nothing matched. Every
number is copied from the evidence or its arguments, never computed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from miot_harness.evidence_table import ColumnKind, column_kind, row_keys
from miot_harness.language.words import is_stopword, stem, words
from miot_harness.models.offline.evidence import Evidence
from miot_harness.models.offline.ordering import is_trouble
from miot_harness.wording import is_percent, label, plural, value_text, value_words

COUNT_PREFIX = "n_"
TOTAL_PREFIX = "total"
# Title openings that only say "how many": the noun after them is what is counted.
_COUNT_TITLES = ("cantidad de ", "número de ", "numero de ", "total de ", "conteo de ", "conteo ")
# Filters that describe the servicios themselves (adjectives) rather than where they are.
_ADJECTIVES = ("eta_clasificacion", "estado")
_PREPOSITIONS = {
    "region": "en",
    "comuna": "en",
    "centro": "en el centro",
    "cliente": "del cliente",
    "transportista": "de",
    "conductor": "del conductor",
    "patente": "con patente",
    "canal": "del canal",
    "tipo_servicio": "de tipo",
    "prioridad": "de prioridad",
}
_SKIPPED_ARGS = {"limit", "offset", "fecha_desde", "fecha_hasta", "fecha_tipo", "codigo"}
_MAX_TIES = 10
_HEADLINE_KEYS = 5
# Endings that only make nouns: a label "brecha capacidad" reads "brecha de capacidad".
_NOUN_ENDINGS = ("dad", "cion", "sion", "miento", "aje", "ura", "encia", "ancia", "eza", "tud")
_UNACCENT = str.maketrans("áéíóú", "aeiou")
_VOWELS = "aeiou"


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _when(args: dict[str, Any], today: date | None) -> str:
    """ "hoy", "ayer", "el 03-12", "entre el 01-11 y el 25-11": the date range in words."""
    start, end = _day(args.get("fecha_desde")), _day(args.get("fecha_hasta"))
    if start is None and end is None:
        return ""
    if start == end and today is not None:
        named = {
            today: "hoy",
            today - timedelta(days=1): "ayer",
            today + timedelta(days=1): "mañana",
        }
        if start in named:
            return named[start]
    if start == end and start is not None:
        return f"el {start:%d-%m}"
    if start and end:
        return f"entre el {start:%d-%m} y el {end:%d-%m}"
    return f"desde el {start:%d-%m}" if start else f"hasta el {end:%d-%m}"


def _adjectives(args: dict[str, Any], one: bool = False) -> list[str]:
    """The filters that qualify the servicios, in plural unless `one` is counted."""
    inflect: Callable[[str], str] = str if one else plural
    found = [inflect(value_words(args[key])) for key in _ADJECTIVES if args.get(key)]
    critical = args.get("es_critico")
    if critical is not None:
        found.append(inflect("crítico") if critical else f"no {inflect('crítico')}")
    return found


def _places(args: dict[str, Any]) -> list[str]:
    places = []
    for key, value in args.items():
        if key in _SKIPPED_ARGS or key in _ADJECTIVES or key == "es_critico" or value is None:
            continue
        before = _PREPOSITIONS.get(key, label(key).lower())
        places.append(f"{before} {value_words(value) if key == 'prioridad' else value}")
    return places


def filters_in_words(args: dict[str, Any], today: date | None, one: bool = False) -> str:
    """The filters as a phrase after a noun: "atrasados en Maipú hoy" (adjectives first,
    singular when `one` is counted)."""
    kind = args.get("fecha_tipo")
    when = _when(args, today)
    if when and kind and kind != "compromiso":
        when += f" (por fecha de {value_words(kind)})"
    return " ".join(part for part in [*_adjectives(args, one), *_places(args), when] if part)


def _singular(word: str) -> str:
    """The singular of a Spanish plural noun or adjective: a vowel and l, n, r, d, j or y
    before "es" drop "es" ("regiones" -> "región"), a vowel before "ces" makes "z" ("luces"
    -> "luz"), any other plural drops its "s" ("servicios", "clientes"); else as it is."""
    folded = word.translate(_UNACCENT).lower()
    if not folded.endswith("s") or len(folded) < 4:
        return word
    if folded.endswith("ces") and folded[-4] in _VOWELS:
        return word[:-3] + "z"
    if folded.endswith("es") and folded[-3] in "lnrdjy" and folded[-4] in _VOWELS:
        single = word[:-2]
        return single[:-2] + "ón" if single.endswith("ion") else single
    return word[:-1] if folded[-2] in _VOWELS else word


def _noun_singular(phrase: str) -> str:
    """A noun phrase about one item: its head noun and the adjectives right after it, up to
    the first function word ("servicios atrasados de la cola" -> "servicio atrasado de…")."""
    parts = phrase.split(" ")
    for position, part in enumerate(parts):
        if is_stopword(part):
            break
        parts[position] = _singular(part)
    return " ".join(parts)


def _verb(args: dict[str, Any], today: date | None) -> str:
    """ "hubo" for a range that has ended, "habrá" for one still to come, else "hay"."""
    start, end = _day(args.get("fecha_desde")), _day(args.get("fecha_hasta"))
    if today is not None and (end or start) is not None and (end or start) < today:
        return "hubo"
    if today is not None and (start or end) is not None and (start or end) > today:
        return "habrá"
    return "hay"


def _phrase_label(key: str) -> str:
    """A key's label as a Spanish phrase: two nouns joined by "de" ("brecha de capacidad")."""
    parts = label(key).split(" ")
    joined = parts[:1]
    for word in parts[1:]:
        previous = joined[-1]
        ends_noun = word.translate(_UNACCENT).lower().endswith(_NOUN_ENDINGS)
        if ends_noun and not previous.isupper() and not is_stopword(previous.lower()):
            joined.append("de")
        joined.append(word)
    return " ".join(joined)


def _noun(title: str | None, fallback: str) -> str:
    """What a count counts: the noun of a "Cantidad de servicios" title, or the title."""
    text = (title or fallback).strip()
    folded = text.lower()
    for opening in _COUNT_TITLES:
        if folded.startswith(opening):
            return text[len(opening) :]
    return text[:1].lower() + text[1:]


def _lower_first(text: str) -> str:
    """ "Tasa cumplimiento" -> "tasa cumplimiento"; "ETA riesgo" keeps its acronym."""
    return text if text[:2].isupper() else text[:1].lower() + text[1:]


def _shown(value: Any, key: str, zone: tzinfo | None) -> str:
    text = value_text(value, key, zone)
    return text if text is not None else value_words(str(value))


def count_sentence(item: Evidence, value: Any, today: date | None, fallback: str) -> str:
    """ "Hoy hay **153** servicios atrasados." or "Hoy no hay servicios atrasados en Maipú." """
    one = value == 1
    noun = _noun(item.title, fallback)
    when = _when(item.args, today)
    undated = {k: v for k, v in item.args.items() if not k.startswith("fecha")}
    rest = filters_in_words(undated, None, one)
    phrase = " ".join(part for part in (_noun_singular(noun) if one else noun, rest) if part)
    verb = _verb(item.args, today)
    if value in (0, None):
        verb = f"no {verb}"
    opening = f"{when} {verb}" if when else verb
    opening = opening[:1].upper() + opening[1:]
    if value in (0, None):
        return f"{opening} {phrase}."
    return f"{opening} **{_shown(value, '', None)}** {phrase}."


def _kinds(rows: list[dict[str, Any]]) -> dict[str, ColumnKind]:
    return {k: column_kind([row.get(k) for row in rows]) for k in row_keys(rows)}


def _names(kinds: dict[str, ColumnKind]) -> list[str]:
    """The columns that name a row by words (a comuna, a carrier, a category)."""
    return [k for k, kind in kinds.items() if kind in (ColumnKind.NAME, ColumnKind.ENUM)]


def _entity(rows: list[dict[str, Any]], args: dict[str, Any]) -> tuple[str, list[str]]:
    """The column naming each row (a code, else the most varied name) and the names beside
    it (a name a filter fixes is left out; one equal on the rows shown is kept, since the
    rows may be pairs such as centro and transportista)."""
    kinds = _kinds(rows)
    keys = list(kinds)
    codes = [k for k in keys if kinds[k] == ColumnKind.CODE]
    if codes:
        return codes[0], []
    names = _names(kinds)
    if not names:
        return keys[0], []
    variety = {k: len({repr(row.get(k)) for row in rows}) for k in names}
    entity = max(names, key=lambda k: variety[k])
    return entity, [k for k in names if k != entity and args.get(k) is None]


def _item_name(row: dict[str, Any], entity: str, context: list[str]) -> str:
    name = f"**{value_words(str(row.get(entity)))}**"
    around = [str(row[k]) for k in context if row.get(k) not in (None, "")]
    return f"{name} ({', '.join(around)})" if around else name


def _named(key: str, question: set[str]) -> bool:
    """Whether the question names a column by every content word of its label."""
    own = {stem(w) for w in words(label(key)) if not is_stopword(w)}
    return bool(own) and own <= question


def _asked_level(
    question: str, rows: list[dict[str, Any]], entity: str, args: dict[str, Any]
) -> str | None:
    """A naming column the question ranks by when the rows are finer items: another column
    ("¿qué región…?" over comunas), or the entity itself when it repeats in the rows shown
    (a centro over centro and transportista pairs). The rows are not its totals, so the
    answer must say so."""
    asked = {stem(w) for w in words(question)}
    if not question:
        return None
    if _named(entity, asked):
        values = [repr(row.get(entity)) for row in rows]
        return entity if len(set(values)) < len(values) else None
    names = [k for k in _names(_kinds(rows)) if k != entity and args.get(k) is None]
    return next((k for k in names if _named(k, asked)), None)


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def ranking_sentence(
    item: Evidence, zone: tzinfo | None, today: date | None, question: str = ""
) -> str:
    """ "Comuna con más atrasados hoy: **Maipú** (Metropolitana) con 13, en empate con …";
    a "más" whose top value is below zero says no row is above it; a ranking asked by a
    coarser level than its rows says the rows are not totals of it."""
    rows = item.rows or []
    order = item.order_by
    assert order is not None and rows
    column, direction = order
    entity, context = _entity(rows, item.args)
    level = _asked_level(question, rows, entity, item.args)
    if level is not None and level != entity and level not in context:
        context = [*context, level]
    first = rows[0].get(column)
    ties = [row for row in rows if row.get(column) == first][:_MAX_TIES]
    measure_label = _lower_first(_phrase_label(column))
    if is_percent(column):
        measure = f"{'mayor' if direction == 'desc' else 'menor'} {measure_label}"
    else:
        measure = f"{'más' if direction == 'desc' else 'menos'} {plural(measure_label)}"
    filters = filters_in_words(item.args, today)
    subject = label(entity)
    names = [
        f"{_item_name(row, entity, context)} con {_shown(first, column, zone)}" for row in ties
    ]
    top = _number(first)
    if direction == "desc" and top is not None and top <= 0:
        # No value is above zero (the first is the highest): none has any of the measure.
        where = f" ({filters})" if filters else ""
        text = f"Ningún valor de {measure_label} es mayor que cero{where}; el más alto es el de "
        text += names[0]
    else:
        head = f"{subject} con {measure}" + (f" ({filters})" if filters else "")
        text = f"{head}: {names[0]}"
    if len(names) > 1:
        text += ", en empate con " + ", ".join(names[1:])
    tied = item.output.get("tied_rows")
    if isinstance(tied, int) and tied > len(names):
        text += f" ({_shown(tied, '', None)} empatados con ese valor; la tabla los lista)"
    total = item.total
    if isinstance(total, int):
        # Rows named by more than one column may be pairs: count rows, not items.
        noun = plural(subject.lower()) if " " not in subject and not context else "filas"
        text += f"; de {_shown(total, '', None)} {noun}"
    text += "."
    ranked = item.ranked_rows
    if ranked is not None and isinstance(total, int) and ranked < total:
        text += (
            f" El orden cubre solo las primeras {_shown(ranked, '', None)} filas de "
            f"{_shown(total, '', None)}, en el orden de la función."
        )
    if level is not None:
        keys = ", ".join(label(k).lower() for k in [entity, *context])
        text += (
            f" El orden compara filas ({keys}): no suma las filas de cada {label(level).lower()}."
        )
    return text


def list_sentence(item: Evidence, fallback: str, today: date | None) -> str:
    """ "Cola crítica (críticos en Metropolitana hoy): **83** en total." or nothing matched."""
    title = item.title or fallback
    filters = filters_in_words(item.args, today)
    where = f" ({filters})" if filters else ""
    if not item.rows:
        return f"No hay resultados en {title[:1].lower() + title[1:]}{where}."
    total = item.total if isinstance(item.total, int) else len(item.rows)
    return f"{title}{where}: **{_shown(total, '', None)}** en total."


def _headline_keys(data: dict[str, Any]) -> list[str]:
    """The total, the percentages (one with no data too), then the counts of trouble before
    the others (atrasados and en riesgo before entregados) of a KPI document."""
    numeric = [k for k, v in data.items() if isinstance(v, int | float) and not isinstance(v, bool)]
    totals = [k for k in numeric if k.startswith(TOTAL_PREFIX)]
    percents = [k for k, v in data.items() if is_percent(k) and (k in numeric or v is None)]
    counts = [k for k in numeric if k.startswith(COUNT_PREFIX) and k not in percents]
    counts.sort(key=lambda k: not is_trouble(k))
    return [*totals, *percents, *counts][:_HEADLINE_KEYS]


def kpi_sentence(item: Evidence, data: dict[str, Any], today: date | None) -> str | None:
    """ "Hoy (en Metropolitana): **1.523** total servicios, tasa cumplimiento **91,5 %**, …" """
    keys = _headline_keys(data)
    if not keys:
        return None
    filters = filters_in_words(item.args, today)
    parts = [
        f"{_lower_first(_phrase_label(k))} **{_shown(data[k], k, None)}**"
        if data[k] is not None
        else f"{_lower_first(_phrase_label(k))} sin dato"
        for k in keys
    ]
    opening = filters[:1].upper() + filters[1:] if filters else "En resumen"
    return f"{opening}: {', '.join(parts)}."


def _last(events: list[Any]) -> dict[str, Any] | None:
    dicts = [e for e in events if isinstance(e, dict)]
    return dicts[-1] if dicts else None


def detail_sentence(data: dict[str, Any], zone: tzinfo | None) -> str | None:
    """The state, last event with its time, carrier and driver, and POD state of one record."""
    record = next(
        (v for v in data.values() if isinstance(v, dict) and "estado" in v and "codigo" in v),
        None,
    )
    code = data.get("codigo")
    if record is None:
        if code and any(v is None for v in data.values()):
            return f"No encontré el servicio **{code}**."
        return None
    parts = [f"**{record['codigo']}** está **{value_words(str(record['estado']))}**"]
    timeline = next(
        (v for v in data.values() if isinstance(v, list) and v and isinstance(v[0], dict)
         and any(isinstance(x, str) and value_text(x, "", zone) for x in v[0].values())),
        None,
    )  # fmt: skip
    last = _last(timeline or [])
    if last is not None:
        when = next((value_text(v, k, zone) for k, v in last.items() if value_text(v, k, zone)), "")
        texts = [
            value_words(str(v)) if k == "tipo" else str(v)
            for k, v in last.items()
            if isinstance(v, str) and not value_text(v, k, zone)
        ]
        what = max(texts, key=len, default="")
        parts.append(f"último evento: {what} ({when})")
    people = [
        f"{label(k).lower()} {record[k]}" for k in ("transportista", "conductor") if record.get(k)
    ]
    if people:
        parts.append(", ".join(people))
    proof_key = next(
        (k for k, v in data.items() if isinstance(v, dict) and "estado" in v and "codigo" not in v),
        None,
    )
    if proof_key is not None:
        parts.append(f"{label(proof_key)} {value_words(str(data[proof_key]['estado']))}")
    return "; ".join(parts) + "."


def today_of(now: datetime | None) -> date | None:
    return now.date() if now is not None else None
