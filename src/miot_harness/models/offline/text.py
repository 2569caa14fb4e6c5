"""Spanish-aware normalisation shared by tool ranking and filter extraction.

Accents are folded before stemming with `snowballstemmer` (the Snowball Spanish stemmer:
pure Python, no data files, stable output), so "auditoría" and "auditoria" meet. Domain
synonyms are folded to one canonical stem, multi-word ones before tokenising, so the
question and the tool texts share a vocabulary without a table of known questions.
"""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

from miot_harness.language.normalise import fold

_STEMMER = snowballstemmer.stemmer("spanish")
_TOKEN = re.compile(r"[a-z0-9ñ]+|%")

STOPWORDS = frozenset(
    [
        "a",
        "al",
        "algo",
        "algun",
        "alguna",
        "algunos",
        "ante",
        "con",
        "contra",
        "cual",
        "cuales",
        "cuando",
        "de",
        "del",
        "desde",
        "donde",
        "dame",
        "el",
        "ella",
        "ellos",
        "en",
        "entre",
        "era",
        "es",
        "esa",
        "ese",
        "eso",
        "esta",
        "estan",
        "estas",
        "este",
        "esto",
        "estos",
        "favor",
        "fue",
        "ha",
        "hay",
        "la",
        "las",
        "le",
        "les",
        "lo",
        "los",
        "me",
        "mi",
        "mis",
        "muestra",
        "muestrame",
        "mostrar",
        "necesito",
        "no",
        "nos",
        "o",
        "para",
        "pero",
        "por",
        "porfa",
        "puedes",
        "que",
        "quiero",
        "se",
        "segun",
        "ser",
        "si",
        "sin",
        "sobre",
        "son",
        "su",
        "sus",
        "tambien",
        "te",
        "tiene",
        "tienen",
        "todo",
        "todos",
        "tu",
        "un",
        "una",
        "unas",
        "uno",
        "unos",
        "ver",
        "y",
        "ya",
        "cual",
        "como",
        "quien",
        "the",
        "of",
        "for",
        "in",
        "on",
        "at",
        "to",
        "is",
        "are",
        "was",
        "what",
        "which",
        "show",
        "me",
        "give",
        "please",
        "an",
        "and",
        "or",
        "with",
        "from",
        "by",
        "be",
        "do",
        "does",
        "list",
        "get",
        "tell",
        "my",
        "our",
        "all",
        "any",
        "va",
        "van",
        "vamos",
        "voy",
        "estamos",
        "esta",
        "estan",
        "hubo",
        "tenemos",
        "tengo",
        "dime",
        "quisiera",
        "saber",
        "podrias",
        "puedes",
        "ahora",
        "solo",
        "mismo",
        "pero",
        "cada",
        "hoy",
        "sea",
        "dia",
        "dias",
        "mas",
        "menos",
        "muy",
        "cuanto",
        "les",
        "domain",
        "returns",
        "layer",
        "keywords",
        "l1",
        "l2",
        "l3",
        "vt",
        "json",
        "table",
        "text",
        "bigint",
        "int",
        "integer",
        "boolean",
        "date",
        "timestamptz",
        "numeric",
        "p",
    ]
) | {
    "there", "how", "many", "much", "tuvimos", "tuvo", "lleva", "llevan", "siguen", "sigue",
    "tiene", "tienen", "cuales", "tal", "yendo", "doing", "going", "have", "has", "had", "we",
    "they", "it", "its", "per", "over", "cuenta", "contando",
}  # fmt: skip

# Groups of words that mean the same thing in this domain; the first word is canonical.
SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    (
        "atrasado",
        "retrasado",
        "tarde",
        "demorado",
        "atraso",
        "retraso",
        "demora",
        "late",
        "delayed",
    ),
    ("conductor", "chofer", "driver", "repartidor", "conductores", "choferes"),
    (
        "transportista",
        "carrier",
        "courier",
        "transportistas",
        "carriers",
        "couriers",
        "transportadora",
    ),
    (
        "pod",
        "foto",
        "firma",
        "fotos",
        "firmas",
        "comprobante",
        "fotografia",
        "fotografica",
        "fotografias",
    ),
    (
        "kpi",
        "kpis",
        "resumen",
        "indicadores",
        "indicador",
        "metricas",
        "panorama",
        "summary",
        "overview",
        "dashboard",
    ),
    ("conteo", "cuantos", "cuantas", "cantidad", "contar", "numero", "count"),
    ("critico", "criticos", "critica", "criticas", "urgente", "urgentes", "critical", "urgent"),
    (
        "servicio",
        "servicios",
        "pedido",
        "pedidos",
        "envio",
        "envios",
        "despacho",
        "despachos",
        "orden",
        "ordenes",
        "shipment",
        "shipments",
        "order",
        "orders",
    ),
    (
        "rendimiento",
        "desempeno",
        "performance",
        "ranking",
        "rinde",
        "rinden",
        "rindiendo",
        "performing",
    ),
    ("centro", "centros", "center", "centre"),
    ("torre", "tower"),
    ("atencion", "atender", "atenderse", "atendamos", "attention"),
    ("capacidad", "dotacion", "flota", "carga", "capacity"),
    ("detalle", "detalles", "historial", "trazabilidad", "detail", "details"),
    (
        "catalogo",
        "valores",
        "opciones",
        "existen",
        "disponibles",
        "catalog",
        "catalogue",
        "values",
        "valid",
        "validos",
    ),
    ("distribucion", "desglose", "breakdown", "distribution"),
    ("entregado", "delivered"),
    ("fallido", "failed"),
    ("region", "regiones", "zona", "zonas", "regional"),
    ("cliente", "clientes", "client", "clients", "customer", "customers"),
    ("canal", "canales", "channel", "channels"),
    ("filtro", "filtros", "filter", "filters"),
    ("porcentaje", "%", "pct", "tasa", "percent", "percentage"),
)

# Multi-word phrases folded into one token before tokenising.
PHRASES: tuple[tuple[str, str], ...] = (
    ("prueba de entrega", "pod"),
    ("pruebas de entrega", "pod"),
    ("proof of delivery", "pod"),
    ("evidencia de entrega", "pod"),
    ("en general", "resumen"),
    ("how many", "conteo"),
    ("a tiempo", "atiempo"),
    ("on time", "atiempo"),
    ("cuanto hay", "conteo"),
    ("llegada estimada", "eta"),
    ("hora estimada", "eta"),
    ("estado general", "resumen"),
    ("como va la operacion", "resumen"),
    ("como vamos", "resumen"),
)


def words(text: str) -> list[str]:
    """Folded word tokens (underscores and punctuation split words)."""
    return _TOKEN.findall(fold(text).replace("_", " "))


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    return _STEMMER.stemWord(word)


def _canonical_map() -> dict[str, str]:
    mapping: dict[str, str] = {}
    for group in SYNONYM_GROUPS:
        canonical = stem(group[0])
        for word in group:
            mapping[stem(word)] = canonical
    return mapping


_CANONICAL = _canonical_map()


def apply_phrases(folded: str) -> str:
    for phrase, token in PHRASES:
        if phrase in folded:
            folded = re.sub(rf"\b{re.escape(phrase)}\b", token, folded)
    return folded


@lru_cache(maxsize=4096)
def terms(text: str) -> tuple[str, ...]:
    """Canonical stems of the content words of `text`, in order (stopwords dropped)."""
    folded = apply_phrases(fold(text).replace("ñ", "n").replace("_", " "))
    out: list[str] = []
    for word in _TOKEN.findall(folded):
        if word in STOPWORDS or word.isdigit():  # numbers are filter values, not topics
            continue
        stemmed = stem(word)
        out.append(_CANONICAL.get(stemmed, stemmed))
    return tuple(out)
