"""`pg_proc` introspection: one catalog query, then descriptors for the allowed functions."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import asyncpg

from miot_harness.nexo.bulk import collector_paused
from miot_harness.nexo.contract import SHARED_ENUMS, argument_name, takes_filter_contract
from miot_harness.nexo.descriptions import ParsedDescription, is_denied, parse_pg_description
from miot_harness.nexo.pool import nexo_connection
from miot_harness.nexo.type_mapping import PgType, build_types, python_type, with_labels
from miot_harness.settings import HarnessSettings

logger = logging.getLogger(__name__)

TOOL_FUNCTION_PREFIX = "fn_dx_"
MAX_TOOL_NAME = 64
TOOL_NAME = re.compile(rf"^[a-z0-9_]{{1,{MAX_TOOL_NAME}}}$")
ARGUMENT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
INPUT_MODES = frozenset({"i", "b", "v"})
OUTPUT_MODES = frozenset({"o", "b", "t"})
NO_DEFAULT = object()

CATALOG_SQL = """
WITH RECURSIVE fns AS (
    SELECT p.*, coalesce(p.proallargtypes, p.proargtypes::oid[]) AS argtypes
    FROM pg_catalog.pg_proc p
    JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = $1
),
closure(oid) AS (
    SELECT DISTINCT t FROM fns, unnest(fns.argtypes || fns.prorettype) AS t
    UNION
    SELECT v.x FROM closure c
    JOIN pg_catalog.pg_type t ON t.oid = c.oid
    CROSS JOIN LATERAL (
        SELECT CASE WHEN t.typsubscript = 'pg_catalog.array_subscript_handler'::regproc
                    THEN t.typelem END
        UNION ALL SELECT nullif(t.typbasetype, 0)
        UNION ALL SELECT a.atttypid FROM pg_catalog.pg_attribute a
                  WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
    ) v(x)
    WHERE v.x IS NOT NULL
),
types AS (
    SELECT t.oid, json_build_object(
        'name', CASE WHEN tn.nspname = 'pg_catalog' THEN format_type(t.oid, NULL)
                     ELSE t.typname::text END,
        'sql_name', CASE WHEN tn.nspname = 'pg_catalog' THEN format_type(t.oid, NULL)
                         ELSE quote_ident(tn.nspname) || '.' || quote_ident(t.typname) END,
        'kind', CASE WHEN t.typtype = 'd' THEN 'domain'
                     WHEN t.typtype = 'e' THEN 'enum'
                     WHEN t.typsubscript = 'pg_catalog.array_subscript_handler'::regproc
                         THEN 'array'
                     WHEN t.typtype = 'c' THEN 'composite'
                     WHEN t.typtype = 'p' THEN 'pseudo'
                     WHEN t.typtype = 'b' THEN 'base'
                     ELSE 'other' END,
        'labels', (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder)
                   FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid),
        'element', CASE WHEN t.typsubscript = 'pg_catalog.array_subscript_handler'::regproc
                        THEN t.typelem END,
        'base', nullif(t.typbasetype, 0),
        'columns', (SELECT json_agg(json_build_object('name', a.attname, 'type', a.atttypid)
                                    ORDER BY a.attnum)
                    FROM pg_catalog.pg_attribute a
                    WHERE t.typrelid <> 0 AND a.attrelid = t.typrelid AND a.attnum > 0
                      AND NOT a.attisdropped)
    ) AS info
    FROM closure c
    JOIN pg_catalog.pg_type t ON t.oid = c.oid
    JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace
)
SELECT json_build_object(
    'functions', coalesce((
        SELECT json_agg(json_build_object(
            'oid', f.oid,
            'name', f.proname,
            'kind', f.prokind::text,
            'returns_set', f.proretset,
            'return_type', f.prorettype,
            'volatility', f.provolatile::text,
            'security_definer', f.prosecdef,
            'config', f.proconfig,
            'source', f.prosrc,
            'language', l.lanname,
            'comment', d.description,
            'executable', has_function_privilege(f.oid, 'EXECUTE'),
            'identity_arguments', pg_get_function_identity_arguments(f.oid),
            'argument_types', f.argtypes,
            'argument_names', f.proargnames,
            'argument_modes', f.proargmodes::text[],
            'default_count', f.pronargdefaults,
            'defaults_sql', pg_get_expr(f.proargdefaults, 0)
        ) ORDER BY f.proname, f.oid)
        FROM fns f
        JOIN pg_catalog.pg_language l ON l.oid = f.prolang
        LEFT JOIN pg_catalog.pg_description d
               ON d.objoid = f.oid AND d.classoid = 'pg_catalog.pg_proc'::regclass
              AND d.objsubid = 0
    ), '[]'::json),
    'types', coalesce((SELECT json_object_agg(oid, info) FROM types), '{}'::json)
)::text
"""


@dataclass(frozen=True)
class CatalogArgument:
    """One `pg_proc` argument: mode i (IN), o (OUT), b (INOUT), v (VARIADIC) or t (TABLE)."""

    position: int
    sql_name: str
    mode: str
    type: PgType
    default_sql: str | None


@dataclass(frozen=True)
class CatalogFunction:
    """A function of the schema as the catalog describes it (what introspection and lint read)."""

    oid: int
    schema: str
    name: str
    kind: str
    returns_set: bool
    return_type: PgType
    volatility: str
    security_definer: bool
    config: tuple[str, ...]
    source: str
    language: str
    comment: str | None
    executable: bool
    identity_arguments: str
    arguments: tuple[CatalogArgument, ...]

    @property
    def signature(self) -> str:
        return f"{self.schema}.{self.name}({self.identity_arguments})"

    @property
    def inputs(self) -> tuple[CatalogArgument, ...]:
        return tuple(a for a in self.arguments if a.mode in INPUT_MODES)


@dataclass(frozen=True)
class ToolArgument:
    """One input of a tool: the SQL parameter, its Python type and whether it may be omitted."""

    name: str
    sql_name: str
    type: PgType
    python_type: Any
    required: bool
    default_sql: str | None
    default: Any
    variadic: bool = False
    default_expression: str | None = None


@dataclass(frozen=True)
class OutputColumn:
    name: str
    type: PgType
    python_type: Any


ReturnKind = Literal["table", "json", "scalar"]


@dataclass(frozen=True)
class FunctionDescriptor:
    """Everything the tool factory needs to turn one allowed function into a tool."""

    schema: str
    function: str
    oid: int
    tool_name: str
    signature: str
    arguments: tuple[ToolArgument, ...]
    return_kind: ReturnKind
    return_type: PgType
    columns: tuple[OutputColumn, ...]
    description: ParsedDescription
    comment: str | None
    volatility: str

    @property
    def takes_filter_contract(self) -> bool:
        return takes_filter_contract({a.name for a in self.arguments})


@dataclass(frozen=True)
class SkippedFunction:
    """A function of the schema that did not become a tool, and why."""

    signature: str
    reason: str
    kind: Literal["denied", "out_of_scope", "not_executable", "unmappable", "duplicate"]


@dataclass(frozen=True)
class IntrospectionResult:
    descriptors: list[FunctionDescriptor] = field(default_factory=list)
    skipped: list[SkippedFunction] = field(default_factory=list)


class UnmappableSignature(ValueError):
    """A signature the harness cannot express as a typed tool."""


_SQL_LIST_TOKEN = re.compile(r"'(?:[^']|'')*'|[(\[]|[)\]]|,")


def split_sql_list(text: str | None) -> list[str]:
    """Split `pg_get_expr` output for argument defaults on top-level commas."""
    if not text:
        return []
    items, depth, start = [], 0, 0
    for token in _SQL_LIST_TOKEN.finditer(text):
        mark = token.group()
        if mark in "([":
            depth += 1
        elif mark in ")]":
            depth -= 1
        elif mark == "," and depth == 0:
            items.append(text[start : token.start()].strip())
            start = token.end()
    items.append(text[start:].strip())
    return items


_NULL = re.compile(r"^NULL(::.+)?$", re.IGNORECASE)
_STRING = re.compile(r"^'((?:[^']|'')*)'(::.+)?$", re.DOTALL)
_NUMBER = re.compile(r"^\(?'?(-?\d+(?:\.\d+)?)'?\)?(::.+)?$")
_BOOLEAN = re.compile(r"^(true|false)$", re.IGNORECASE)


def parse_default(sql: str | None) -> Any:
    """A literal default as a Python value; `NO_DEFAULT` when it is an expression."""
    if sql is None:
        return NO_DEFAULT
    text = sql.strip()
    if _NULL.match(text):
        return None
    if match := _NUMBER.match(text):
        number = match.group(1)
        return float(number) if "." in number else int(number)
    if match := _STRING.match(text):
        return match.group(1).replace("''", "'")
    if match := _BOOLEAN.match(text):
        return match.group(1).lower() == "true"
    return NO_DEFAULT


def _catalog_function(
    schema: str, row: dict[str, Any], types: dict[int, PgType]
) -> CatalogFunction:
    type_oids = row["argument_types"] or []
    names = row["argument_names"] or []
    modes = row["argument_modes"] or ["i"] * len(type_oids)
    defaults = split_sql_list(row["defaults_sql"])
    input_positions = [i for i, mode in enumerate(modes) if mode in INPUT_MODES]
    with_default = (
        set(input_positions[len(input_positions) - len(defaults) :]) if defaults else set()
    )
    default_for = dict(zip(sorted(with_default), defaults, strict=True))
    arguments = tuple(
        CatalogArgument(
            position=i + 1,
            sql_name=names[i] if i < len(names) else "",
            mode=modes[i],
            type=types[int(oid)],
            default_sql=default_for.get(i),
        )
        for i, oid in enumerate(type_oids)
    )
    return CatalogFunction(
        oid=int(row["oid"]),
        schema=schema,
        name=row["name"],
        kind=row["kind"],
        returns_set=bool(row["returns_set"]),
        return_type=types[int(row["return_type"])],
        volatility=row["volatility"],
        security_definer=bool(row["security_definer"]),
        config=tuple(row["config"] or ()),
        source=row["source"] or "",
        language=row["language"],
        comment=row["comment"],
        executable=bool(row["executable"]),
        identity_arguments=row["identity_arguments"] or "",
        arguments=arguments,
    )


async def fetch_catalog(conn: asyncpg.Connection, schema: str) -> list[CatalogFunction]:
    """Every function of `schema` with types resolved (call inside a read-only transaction)."""
    text = await conn.fetchval(CATALOG_SQL, schema)
    with collector_paused():
        document = json.loads(text)
        types = build_types(document["types"])
        return [_catalog_function(schema, row, types) for row in document["functions"]]


def _tool_argument(argument: CatalogArgument, description: ParsedDescription) -> ToolArgument:
    name = argument_name(argument.sql_name)
    labels = SHARED_ENUMS.get(name) or description.enums.get(argument.sql_name)
    return _mapped_argument(argument, labels or description.enums.get(name))


@lru_cache(maxsize=4096)
def _mapped_argument(argument: CatalogArgument, labels: tuple[str, ...] | None) -> ToolArgument:
    """Memoised: catalogues repeat the same filter parameters in many functions."""
    if not argument.sql_name:
        raise UnmappableSignature(f"argument {argument.position} has no name")
    name = argument_name(argument.sql_name)
    if not ARGUMENT_NAME.match(name):
        raise UnmappableSignature(f"argument {argument.sql_name!r} is not a plain identifier")
    base_type = python_type(argument.type)
    if base_type is None:
        raise UnmappableSignature(
            f"argument {argument.sql_name} has type {argument.type.name}, which has no JSON form"
        )
    typed = (with_labels(argument.type, labels) if labels else None) or base_type
    default = parse_default(argument.default_sql)
    return ToolArgument(
        name=name,
        sql_name=argument.sql_name,
        type=argument.type,
        python_type=typed,
        required=argument.default_sql is None,
        default_sql=argument.default_sql,
        default=None if default is NO_DEFAULT else default,
        variadic=argument.mode == "v",
        default_expression=argument.default_sql if default is NO_DEFAULT else None,
    )


def _columns(function: CatalogFunction) -> tuple[OutputColumn, ...]:
    outputs = [a for a in function.arguments if a.mode in OUTPUT_MODES]
    resolved = function.return_type.resolved()
    if outputs:
        pairs = [(a.sql_name or f"column{a.position}", a.type) for a in outputs]
    elif resolved.kind == "composite":
        pairs = list(resolved.columns)
    elif resolved.kind == "pseudo":
        raise UnmappableSignature(f"returns {resolved.name} without a column list")
    else:
        pairs = [(function.name, function.return_type)]
    columns = []
    for name, pg_type in pairs:
        mapped = python_type(pg_type)
        if mapped is None:
            raise UnmappableSignature(
                f"result column {name} has type {pg_type.name}, which has no JSON form"
            )
        columns.append(OutputColumn(name=name, type=pg_type, python_type=mapped))
    return tuple(columns)


def _return_shape(function: CatalogFunction) -> tuple[ReturnKind, tuple[OutputColumn, ...]]:
    resolved = function.return_type.resolved()
    has_outputs = any(a.mode in OUTPUT_MODES for a in function.arguments)
    if function.returns_set or has_outputs or resolved.kind == "composite":
        return "table", _columns(function)
    if resolved.is_json:
        return "json", ()
    if python_type(resolved) is None:
        raise UnmappableSignature(f"returns {resolved.name}, which has no JSON form")
    return "scalar", ()


def describe_function(
    function: CatalogFunction, tool_name: str, description: ParsedDescription | None = None
) -> FunctionDescriptor:
    """The descriptor of one allowed function; raises `UnmappableSignature` with a reason."""
    description = description or parse_pg_description(function.comment)
    arguments = tuple(_tool_argument(a, description) for a in function.inputs)
    kind, columns = _return_shape(function)
    return FunctionDescriptor(
        schema=function.schema,
        function=function.name,
        oid=function.oid,
        tool_name=tool_name,
        signature=function.signature,
        arguments=arguments,
        return_kind=kind,
        return_type=function.return_type,
        columns=columns,
        description=description,
        comment=function.comment,
        volatility=function.volatility,
    )


def _type_token(pg_type: PgType) -> str:
    token = pg_type.name.lower().replace("[]", "_array")
    return re.sub(r"[^a-z0-9]+", "_", token).strip("_") or "type"


def tool_names(functions: list[CatalogFunction], prefix: str) -> dict[int, str]:
    """Tool names by function oid: overloads get `__<types>`; long names a hash suffix."""
    by_name: dict[str, list[CatalogFunction]] = defaultdict(list)
    for function in functions:
        by_name[function.name].append(function)
    names: dict[int, str] = {}
    for proname, members in by_name.items():
        base = prefix + proname.removeprefix(TOOL_FUNCTION_PREFIX)
        base = re.sub(r"[^a-z0-9_]+", "_", base.lower())
        for function in members:
            name = base
            if len(members) > 1:
                types = "_".join(_type_token(a.type) for a in function.inputs) or "noargs"
                name = f"{base}__{types}"
            if len(name) > MAX_TOOL_NAME:
                digest = hashlib.sha256(function.signature.encode()).hexdigest()[:6]
                name = f"{name[: MAX_TOOL_NAME - 7]}_{digest}"
            names[function.oid] = name
    return names


def _scope_reason(
    function: CatalogFunction, description: ParsedDescription
) -> SkippedFunction | None:
    if denied := is_denied(function.name, description):
        return SkippedFunction(function.signature, denied, "denied")
    if not function.name.startswith(TOOL_FUNCTION_PREFIX):
        return SkippedFunction(
            function.signature, f"name does not start with {TOOL_FUNCTION_PREFIX}", "out_of_scope"
        )
    if function.kind != "f":
        return SkippedFunction(function.signature, "not a plain function", "out_of_scope")
    if not function.executable:
        return SkippedFunction(
            function.signature, "the current role may not EXECUTE it", "not_executable"
        )
    return None


def describe_catalog(
    functions: list[CatalogFunction], settings: HarnessSettings
) -> IntrospectionResult:
    """Apply scope, denylist and privileges, then describe what remains (skips logged)."""
    with collector_paused():
        return _describe_catalog(functions, settings)


def _describe_catalog(
    functions: list[CatalogFunction], settings: HarnessSettings
) -> IntrospectionResult:
    result = IntrospectionResult()
    allowed = []
    descriptions = {}
    for function in functions:
        descriptions[function.oid] = parse_pg_description(function.comment)
        if skipped := _scope_reason(function, descriptions[function.oid]):
            logger.info("nexo: %s is not a tool: %s", skipped.signature, skipped.reason)
            result.skipped.append(skipped)
        else:
            allowed.append(function)
    # Named over the whole schema, so an overload's name never depends on the role's grants.
    names = tool_names(functions, settings.nexo_tool_prefix)
    seen: set[str] = set()
    for function in allowed:
        name = names[function.oid]
        if name in seen or not TOOL_NAME.match(name):
            logger.warning("nexo: skipping %s: tool name %r is taken", function.signature, name)
            result.skipped.append(
                SkippedFunction(function.signature, f"tool name {name!r} is taken", "duplicate")
            )
            continue
        try:
            descriptor = describe_function(function, name, descriptions[function.oid])
        except UnmappableSignature as exc:
            logger.warning("nexo: skipping %s: %s", function.signature, exc)
            result.skipped.append(SkippedFunction(function.signature, str(exc), "unmappable"))
            continue
        seen.add(name)
        result.descriptors.append(descriptor)
    return result


async def introspect_nexo_functions(
    conn_or_pool: asyncpg.Connection | asyncpg.Pool, settings: HarnessSettings
) -> IntrospectionResult:
    """One catalog query in a read-only transaction, then the allowed functions described."""
    async with nexo_connection(conn_or_pool, settings) as conn:
        functions = await fetch_catalog(conn, settings.nexo_schema)
    return describe_catalog(functions, settings)
