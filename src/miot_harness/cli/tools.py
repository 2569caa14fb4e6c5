"""`miot-harness tools`: list, show and lint the tools built from the nexo catalogue."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Annotated

import typer

from miot_harness.cli.common import settings_or_exit

if TYPE_CHECKING:
    from miot_harness.nexo.lint import LintReport
    from miot_harness.nexo.tool_factory import NexoTool
    from miot_harness.settings import HarnessSettings

app = typer.Typer(
    help="Inspect and lint the tools built from the nexo catalogue.", no_args_is_help=True
)
logger = logging.getLogger(__name__)


def _dsn(settings: HarnessSettings) -> str:
    """The configured Coordinador database, else the embedded demo one (started if needed)."""
    from miot_harness.nexo.credentials import (
        CredentialsError,
        credentials_from_settings,
        nexo_database_configured,
    )

    if not nexo_database_configured(settings):
        from miot_harness.demo.ready import ensure_demo_database

        return ensure_demo_database(settings).harness_dsn
    try:
        return credentials_from_settings(settings).dsn
    except CredentialsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc


async def _with_pool(settings: HarnessSettings, work):  # type: ignore[no-untyped-def]
    from miot_harness.nexo.pool import create_nexo_pool

    pool = await create_nexo_pool(_dsn(settings), settings, min_size=1, max_size=2)
    try:
        return await work(pool)
    finally:
        await pool.close()


def _run(settings: HarnessSettings, work):  # type: ignore[no-untyped-def]
    import asyncpg

    try:
        return asyncio.run(_with_pool(settings, work))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        typer.echo(f"cannot read the Coordinador catalogue: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(2) from exc


def _load_tools(settings: HarnessSettings) -> list[NexoTool]:
    from miot_harness.nexo.introspect import introspect_nexo_functions
    from miot_harness.nexo.tool_factory import build_nexo_tools

    async def work(pool):  # type: ignore[no-untyped-def]
        result = await introspect_nexo_functions(pool, settings)
        return build_nexo_tools(result.descriptors, pool, settings)

    return sorted(_run(settings, work), key=lambda tool: tool.name)


@app.command("list")
def list_tools(
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the catalogue as JSON, with descriptions and schemas."),
    ] = False,
) -> None:
    """List the tools: name, layer, domain, returns and arguments (--json adds descriptions
    and argument schemas)."""
    from miot_harness.nexo.tool_factory import tool_catalogue

    catalogue = tool_catalogue(list(_load_tools(settings_or_exit())))
    if as_json:
        typer.echo(json.dumps(catalogue, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table()
    table.add_column("name", no_wrap=True)
    table.add_column("layer", no_wrap=True)
    table.add_column("domain")
    table.add_column("returns", no_wrap=True)
    table.add_column("arguments")
    for entry in catalogue["tools"]:
        table.add_row(
            entry["name"],
            entry["layer"] or "",
            entry["domain"] or "",
            entry["returns"] or "",
            ", ".join(entry["arguments"]),
        )
    Console().print(table)


@app.command("show")
def show_tool(name: Annotated[str, typer.Argument(help="The tool's name.")]) -> None:
    """Print the description the model sees and the tool's input JSON schema."""
    tools = {tool.name: tool for tool in _load_tools(settings_or_exit())}
    tool = tools.get(name)
    if tool is None:
        typer.echo(f"no tool named {name!r}; tools: {', '.join(sorted(tools))}", err=True)
        raise typer.Exit(1)
    typer.echo(f"# {tool.name}\n\n{tool.description}\n\n## input schema\n")
    typer.echo(json.dumps(tool.input_model.model_json_schema(), ensure_ascii=False, indent=2))


@app.command("lint")
def lint_tools() -> None:
    """Check every function of the schema the way a reviewer would; non-zero on problems."""
    from miot_harness.nexo.lint import lint_nexo_functions

    settings = settings_or_exit()

    async def work(pool) -> LintReport:  # type: ignore[no-untyped-def]
        return await lint_nexo_functions(pool, settings)

    report = _run(settings, work)
    for note in report.notes:
        typer.echo(f"note: {note}")
    for problem in report.problems:
        typer.echo(f"error: {problem}")
    if report.problems:
        typer.echo(f"{len(report.problems)} problem(s) in {settings.nexo_schema}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{settings.nexo_schema}: no problems")
