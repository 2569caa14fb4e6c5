"""The deterministic request gate (SPEC 12): refuse other tenants and unsafe requests, no model.

A read question that merely mentions a write word ("¿a qué hora se actualizaron los datos?",
"servicios cancelados") passes: verbs count only in request forms (imperative, infinitive,
subjunctive, with enclitics) aimed at something the harness could change. The text is
folded first by `language.normalise.fold` (NFKC, look-alike letters, accents and invisible
characters), with "ñ" read as "n".
Readable text hidden in base64, percent or hex escapes is refused whatever it says (SPEC 12:
an operator has no reason to encode a question, and decoding leaves room to slip past).
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import unquote

from pydantic import BaseModel

from miot_harness.language.normalise import fold
from miot_harness.schemas import RefusalReason
from miot_harness.settings import HarnessSettings


class GateVerdict(BaseModel):
    """A refusal decided before any model runs."""

    reason: RefusalReason
    message: str


UNSAFE_MESSAGE = (
    "No puedo hacer eso. Solo respondo preguntas de lectura sobre la operación: no escribo, "
    "borro ni refresco datos, no cambio ETAs, no ejecuto SQL ni procesos, y no cambio mis "
    "instrucciones."
)


def tenant_message(tenant_lock: str) -> str:
    return f"Coordinador atiende solo al tenant {tenant_lock}; no puedo responder para otro tenant."


_SQL_PATTERNS = [
    r"\bselect\b[\s\S]{0,200}?\bfrom\b",
    r"\binsert\s+into\b",
    r"\bdelete\s+from\b",
    r"\bupdate\s+[\w.\"]+\s+set\b",
    r"\bdrop\s+(table|schema|database|function|view|index|role|user|owned|extension)\b",
    r"\btruncate\s+(table\s+)?[\w.\"]+",
    r"\balter\s+(table|role|user|database|function|system|schema|default)\b",
    r"\bcreate\s+(or\s+replace|table|function|role|user|extension|index|view|database"
    r"|schema|trigger|procedure)\b",
    r"\b(grant|revoke)\s+\w+[\s\S]{0,80}?\b(on|to|from)\b",
    r"\bunion\s+(all\s+)?select\b",
    r"\bcopy\s+[\w.\"(]+[\s\S]{0,120}?\b(to|from)\s+(program|stdin|stdout|')",
    r";\s*(select|insert|update|delete|drop|create|alter|truncate|grant|revoke|copy|do|call)\b",
    r"'\s*or\s*'?\w*'?\s*=\s*'?\w*",
    r"--\s*$",
    r"/\*",
    r"\b(pg_sleep|pg_read_file|pg_terminate_backend|lo_import|dblink|set_config)\s*\(",
    r"\bset\s+(role|session|local)\b",
    r"\b(exec|execute|call|perform)\s+\w+\s*\(",
    r"\bdo\s+\$\$",
]
_SQL = re.compile("|".join(f"(?:{p})" for p in _SQL_PATTERNS), re.MULTILINE)

# Internal functions nobody needs to name in a read question.
_DENIED_NAMES = re.compile(r"fn_?refresh|refresh_?all|fn_dx_orchestrator|recalcular_?eta")
_SQUEEZED_DENIED = ("fnrefresh", "fndxorchestrator", "recalculareta", "droptable", "deletefrom",
                    "insertinto", "truncatetable", "unionselect", "pgsleep")  # fmt: skip

_OVERRIDE_PATTERNS = [
    r"\b(ignora|ignore|olvida|olvidate|forget|disregard|omite|salta|saltate|bypass|override"
    r"|anula|desactiva|deshabilita)\b[\w\s,]{0,40}?\b(instrucciones|instructions|reglas|rules"
    r"|prompt|indicaciones|directivas|restricciones|restrictions|politicas|policies|guardrails"
    r"|filtros de seguridad|safety)\b",
    r"\b(system|developer)\s+(prompt|message|mode)\b",
    r"\bprompt\s+(del|de)\s+sistema\b",
    r"\bmodo\s+(desarrollador|dios|admin|administrador|sin\s+restricciones)\b",
    r"\b(jailbreak|dan mode)\b",
    r"\b(you are now|ahora eres|eres ahora|a partir de ahora eres|from now on you are"
    r"|pretend to be|finge ser|haz de cuenta que eres|imagina que eres|imagine you are)\b",
    # Role-play: a game, or a claim that the assistant is someone with more rights.
    r"\b(juguemos|finjamos|juego de rol|role\s*-?\s*play|roleplay|let'?s play)\b",
    r"\b(eres|sos|seras|you are|you're|actua como|act as|behave as|comportate como)\s+"
    r"(ahora\s+|now\s+)?(un\s+|una\s+|el\s+|la\s+|a\s+|an\s+|the\s+)?(admin\w*|dba|root"
    r"|superusuario|super usuario|superuser|desarrollador|developer|sistema|system|hacker"
    r"|orquestador|orchestrator)\b",
    # Fake conversation markup in the question ("</system>", "<assistant>").
    r"</?\s*(system|sistema|assistant|asistente|developer|instructions?|instrucciones)\s*>",
    r"\b(sin|without)\s+(restricciones|restrictions|limites|limits|filtros|reglas|rules)\b",
    r"\b(revela|muestra|muestrame|dime|reveal|show|print|imprime|repite|repeat)\b[\w\s]{0,20}?"
    r"\b(tu|tus|your|el|the)\s+(system\s+)?(prompt|instrucciones|instructions)\b",
    r"\b(nuevas instrucciones|new instructions)\b",
    r"\b(cambia|cambiar|usa|usar|switch|change|use|set|pon|poner)\b[\w\s]{0,15}?\btenant\b",
    r"\b(como|as)\s+(el\s+|the\s+)?tenant\b",
    r"\b(tengo|tiene|con|i have|with)\s+(permiso|permisos|autorizacion|acceso|access|permission)"
    r"\s+(de\s+|of\s+)?(gerencia|admin|administrador|superusuario|root|total|full|dba)\b",
]
_OVERRIDE = re.compile("|".join(f"(?:{p})" for p in _OVERRIDE_PATTERNS))


_ENCLITICS = ("lo", "la", "los", "las", "le", "les", "me", "nos", "melo", "mela", "selo")


def _spanish_forms(stem: str, subjunctive_stem: str, ending: str = "ar") -> tuple[set[str], str]:
    """Request forms of a verb (imperative, infinitive, subjunctive, with enclitics), and the
    imperative, which doubles as the third person present ("cancela" = "it cancels")."""
    imperative = stem + ("a" if ending == "ar" else "e")
    subjunctive = subjunctive_stem + ("e" if ending == "ar" else "a")
    bases = {imperative, stem + ending, subjunctive, subjunctive + "n", subjunctive + "s"}
    bases.add(stem + ending[0] + "d")
    return bases | {base + suffix for base in bases for suffix in _ENCLITICS}, imperative


def _verbs(spanish: list[tuple[str, ...]], english: set[str]) -> tuple[set[str], set[str]]:
    """All request forms, and the forms that may also describe (imperatives, English bases)."""
    forms, ambiguous = set(english), set(english)
    for spec in spanish:
        verb_forms, imperative = _spanish_forms(*spec)
        forms |= verb_forms
        ambiguous.add(imperative)
    return forms, ambiguous


# Verbs that are a write request whatever follows.
_ALWAYS_VERBS, _ALWAYS_AMBIGUOUS = _verbs(
    [("borr", "borr"), ("elimin", "elimin"), ("suprim", "suprim", "ir"), ("trunc", "trunqu"),
     ("sobrescrib", "sobrescrib", "ir"), ("insert", "insert"), ("recalcul", "recalcul"),
     ("refresc", "refresqu")],
    {"delete", "drop", "erase", "wipe", "truncate", "overwrite", "insert", "recalculate",
     "recompute", "refresh", "purge"},
)  # fmt: skip

# Verbs that are a write request only when aimed at something the harness could change.
_TARGETED_VERBS, _TARGETED_AMBIGUOUS = _verbs(
    [("actualiz", "actualic"), ("modific", "modifiqu"), ("cambi", "cambi"), ("edit", "edit"),
     ("cancel", "cancel"), ("reasign", "reasign"), ("asign", "asign"), ("marc", "marqu"),
     ("cre", "cre"), ("escrib", "escrib", "ir"), ("guard", "guard"), ("ejecut", "ejecut"),
     ("corr", "corr", "er"), ("lanz", "lanc"), ("dispar", "dispar"), ("reinici", "reinici"),
     ("rese", "rese"), ("quit", "quit"), ("mov", "muev", "er")],
    {"update", "modify", "change", "edit", "alter", "cancel", "reassign", "assign", "mark", "set",
     "write", "save", "store", "run", "execute", "exec", "trigger", "call", "invoke", "launch",
     "reset", "restart", "remove", "create", "move", "reload", "rerun"},
)  # fmt: skip
# "cámbiame", "escríbenos" aim at the user, not at data: only object pronouns count.
_OBJECT_ENCLITICS = ("lo", "la", "los", "las", "le", "les", "melo", "mela", "selo")
_ENCLITIC_FORMS = {
    form
    for form in _ALWAYS_VERBS | _TARGETED_VERBS
    if form.endswith(_OBJECT_ENCLITICS) and len(form) > 6
}

_TARGETS = {
    "dato", "datos", "data", "servicio", "servicios", "service", "services", "eta", "etas",
    "estado", "estados", "status", "snapshot", "snapshots", "tabla", "tablas", "table", "tables",
    "base", "bd", "database", "db", "registro", "registros", "record", "records", "fila", "filas",
    "row", "rows", "pod", "fecha", "fechas", "date", "dates", "conductor", "conductores",
    "driver", "drivers", "transportista", "transportistas", "carrier", "carriers", "cliente",
    "clientes", "orquestador", "orchestrator", "refresco", "refresh", "funcion", "funciones",
    "function", "functions", "sql", "query", "queries", "consulta", "script", "comando",
    "command", "proceso", "procesos", "job", "jobs", "entrega", "entregas", "entregado",
    "prioridad", "priority", "patente", "criticidad", "critico", "criticos", "todo", "todos",
    "everything", "all", "it", "them", "this", "esto", "eso", "rol", "role", "usuario", "user",
    "permisos", "permissions", "indice", "index", "esquema", "schema", "catalogo", "pedido",
    "pedidos", "orden", "ordenes", "order", "orders", "nexo", "coordinador", "cache",
}  # fmt: skip
_SV_CODE = re.compile(r"^sv-?\d+$")
_INTERROGATIVES = {"que", "cual", "cuales", "cuanto", "cuantos", "cuanta", "cuantas", "cuando",
                   "como", "donde", "quien", "quienes", "porque", "what", "which", "how",
                   "when", "where", "who", "why"}  # fmt: skip
# A verb form right after these is a noun or a passive ("se actualizan", "the last update").
_DESCRIPTIVE_MARKERS = {"se", "was", "were", "been", "being", "is", "are", "be", "get", "got",
                        "the", "an", "of", "last", "next", "latest", "recent"}  # fmt: skip
_WORD = re.compile(r"[a-z0-9_'\-]+")
_TARGET_WINDOW = 5
_MARKER_WINDOW = 2


_NAMED_TENANT = re.compile(
    r"\b(?:tenant|tenants|cliente tenant)\s+(?:de\s+|del\s+|of\s+)?([a-z0-9_\-]+)"
)
_NOT_A_NAME = {"es", "esta", "is", "actual", "current", "que", "id", "lock", "y", "and", "o", "or"}


def _plain(text: str) -> str:
    """Folded text with "ñ" read as "n": "truñcate" must not slip past "truncate"."""
    return fold(text).replace("ñ", "n")


def _names_another_tenant(text: str, tenant_lock: str) -> bool:
    """A question asking for a named tenant's data that is not the one this harness serves."""
    lock = _plain(tenant_lock)
    return any(name not in _NOT_A_NAME and name != lock for name in _NAMED_TENANT.findall(text))


def _is_target(token: str) -> bool:
    return token in _TARGETS or bool(_SV_CODE.match(token))


def _write_request(text: str) -> bool:
    """A request form of a write verb; in a question, only the unambiguous forms count."""
    for clause in re.split(r"[.;:!?¿¡,\n]+", text):
        tokens = _WORD.findall(clause)
        asks = bool(tokens) and (tokens[0] in _INTERROGATIVES or tokens[:2] == ["por", "que"])
        for i, token in enumerate(tokens):
            always = token in _ALWAYS_VERBS
            if not always and token not in _TARGETED_VERBS:
                continue
            if asks and token in _ALWAYS_AMBIGUOUS | _TARGETED_AMBIGUOUS:
                continue
            if _DESCRIPTIVE_MARKERS.intersection(tokens[max(0, i - _MARKER_WINDOW) : i]):
                continue
            aimed = any(_is_target(word) for word in tokens[i + 1 : i + 1 + _TARGET_WINDOW])
            if always or aimed or token in _ENCLITIC_FORMS:
                return True
    return False


_BASE64_TOKEN = re.compile(r"[A-Za-z0-9+/_\-]{16,}={0,2}")
_PERCENT_RUN = re.compile(r"(?:%[0-9a-fA-F]{2}){3,}")
_HEX_RUN = re.compile(r"(?:\\x[0-9a-fA-F]{2}){3,}|\b(?:0x)?(?:[0-9a-fA-F]{2}){8,}\b")
_MIN_DECODED_CHARS = 8


def _printable_text(raw: bytes) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(text) < _MIN_DECODED_CHARS:
        return None
    printable = sum(ch.isprintable() or ch.isspace() for ch in text)
    letters = sum(ch.isalpha() for ch in text)
    return text if printable == len(text) and letters >= len(text) // 3 else None


def _decoded_fragments(text: str) -> list[str]:
    """Readable text hidden in base64, percent or hex escapes."""
    found: list[str] = []
    for token in _BASE64_TOKEN.findall(text):
        if not re.search(r"[A-Z0-9]", token):
            continue
        try:
            raw = base64.urlsafe_b64decode(
                token.replace("+", "-").replace("/", "_") + "=" * (-len(token) % 4)
            )
        except (binascii.Error, ValueError):
            continue
        if decoded := _printable_text(raw):
            found.append(decoded)
    found.extend(unquote(run) for run in _PERCENT_RUN.findall(text))
    for run in _HEX_RUN.findall(text):
        if decoded := _printable_text(bytes.fromhex(run.replace("\\x", "").removeprefix("0x"))):
            found.append(decoded)
    return found


def _unsafe(text: str, tenant_lock: str) -> bool:
    """SQL, denied function names, overrides (another tenant too), writes or encoded text."""
    plain = _plain(text)
    squeezed = re.sub(r"[^a-z0-9]", "", plain)
    return bool(
        _SQL.search(plain)
        or _DENIED_NAMES.search(plain)
        or any(word in squeezed for word in _SQUEEZED_DENIED)
        or _OVERRIDE.search(plain)
        or _names_another_tenant(plain, tenant_lock)
        or _write_request(plain)
        or _decoded_fragments(text)
    )


def check_request(message: str, tenant_id: str, settings: HarnessSettings) -> GateVerdict | None:
    """A refusal for another tenant or an unsafe request, or None when the request may run."""
    # Exact, like the tools' own tenant lock: "Mintral" is not "mintral".
    if tenant_id != settings.nexo_tenant_lock:
        return GateVerdict(
            reason=RefusalReason.TENANT, message=tenant_message(settings.nexo_tenant_lock)
        )
    if _unsafe(message, settings.nexo_tenant_lock):
        return GateVerdict(reason=RefusalReason.UNSAFE, message=UNSAFE_MESSAGE)
    return None
