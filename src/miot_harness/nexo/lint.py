"""`tools lint`: what a reviewer would flag in the catalogue, one precise message per problem."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import asyncpg

from miot_harness.nexo.descriptions import (
    CommentFormat,
    ParsedDescription,
    denied_by_name,
    is_denied,
    parse_pg_description,
)
from miot_harness.nexo.introspect import (
    TOOL_FUNCTION_PREFIX,
    CatalogFunction,
    UnmappableSignature,
    describe_function,
    fetch_catalog,
)
from miot_harness.nexo.pool import nexo_connection
from miot_harness.settings import HarnessSettings

SQL_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
EXECUTE_STATEMENT = re.compile(r"\bEXECUTE\b([^;]*)", re.IGNORECASE)
SAFE_VOLATILITY = frozenset({"s", "i"})


@dataclass(frozen=True)
class LintFinding:
    signature: str
    message: str

    def __str__(self) -> str:
        return f"{self.signature}: {self.message}"


@dataclass(frozen=True)
class LintReport:
    """`problems` fail the lint; `notes` say which functions are not tools and why."""

    problems: list[LintFinding] = field(default_factory=list)
    notes: list[LintFinding] = field(default_factory=list)


def _concatenated_execute(source: str) -> bool:
    body = SQL_COMMENTS.sub(" ", source)
    return any("||" in match.group(1) for match in EXECUTE_STATEMENT.finditer(body))


def _security_problems(function: CatalogFunction) -> list[str]:
    messages = []
    if function.security_definer and not any(
        setting.startswith("search_path=") for setting in function.config
    ):
        messages.append(
            "SECURITY DEFINER without its own SET search_path (a caller could shadow objects)"
        )
    if function.language == "plpgsql" and _concatenated_execute(function.source):
        messages.append(
            "EXECUTE of a string built by concatenation; use format() with %I / %L instead"
        )
    return messages


def _tool_problems(
    function: CatalogFunction, parsed: ParsedDescription, denied: str | None
) -> list[str]:
    messages = list(parsed.problems)
    if parsed.format is CommentFormat.NONE:
        messages.append("no COMMENT ON FUNCTION: the model would see no description")
    parameters = {a.sql_name for a in function.inputs}
    for key in parsed.enums:
        if key not in parameters and f"p_{key}" not in parameters:
            messages.append(f"@meta enum.{key} names a parameter the function does not have")
    if function.volatility not in SAFE_VOLATILITY and denied is None:
        messages.append(
            "VOLATILE but not denied: mark it STABLE/IMMUTABLE, or declare its side_effects"
        )
    if denied is None and function.kind == "f":
        try:
            describe_function(function, function.name, parsed)
        except UnmappableSignature as exc:
            messages.append(f"cannot become a tool: {exc}")
    return messages


def lint_catalog(functions: list[CatalogFunction]) -> LintReport:
    """Lint every function of the schema; fn_dx_* functions get the comment checks too."""
    report = LintReport()
    for function in functions:
        messages = _security_problems(function)
        parsed = parse_pg_description(function.comment)
        denied = is_denied(function.name, parsed)
        is_candidate = function.name.startswith(TOOL_FUNCTION_PREFIX)
        if is_candidate and denied_by_name(function.name) is None:
            messages += _tool_problems(function, parsed, denied)
        if denied:
            note = f"not a tool: {denied}"
        elif not is_candidate:
            note = f"not a tool: not named {TOOL_FUNCTION_PREFIX}*"
        elif not function.executable:
            note = "not a tool: the connected role may not EXECUTE it"
        else:
            note = None
        if note:
            report.notes.append(LintFinding(function.signature, note))
        report.problems.extend(LintFinding(function.signature, m) for m in messages)
    return report


async def lint_nexo_functions(
    conn_or_pool: asyncpg.Connection | asyncpg.Pool, settings: HarnessSettings
) -> LintReport:
    """Read the schema's catalog in a read-only transaction and lint it."""
    async with nexo_connection(conn_or_pool, settings) as conn:
        functions = await fetch_catalog(conn, settings.nexo_schema)
    return lint_catalog(functions)
