"""`miot-harness` commands: Answer questions: demo, ask, serve.

Each boots the harness exactly as the server does (`miot_harness.runtime.open_runtime`);
heavy modules are imported inside the commands so `--help` stays fast.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shlex
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer

from miot_harness.cli.common import DataDir, exit_on_sigterm, settings_or_exit

if TYPE_CHECKING:
    from rich.console import Console

    from miot_harness.runtime import HarnessRuntime
    from miot_harness.schemas import Clarification, HarnessRunRecord
    from miot_harness.settings import HarnessSettings

app = typer.Typer(help="Answer questions: demo, ask, serve.")

Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Log every run event.")]


@dataclass(frozen=True)
class DemoQuestion:
    """One of the demo's sample questions and the status it must end with."""

    title: str
    message: str
    tenant_id: str | None
    expected_status: str


DEMO_QUESTIONS = (
    DemoQuestion("Resumen de KPIs", "Resumen del centro de control de hoy", None, "completed"),
    DemoQuestion("Una tabla", "Cola crítica de hoy en la RM, los 10 primeros", None, "completed"),
    DemoQuestion(
        "Otro tenant (rechazo)", "Resumen del centro de control de hoy", "logisur", "refused"
    ),
    DemoQuestion(
        "Relato de entregas",
        "Cuéntame cómo fue la semana con las entregas",
        None,
        "completed",
    ),
)


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )


# --- rendering ---------------------------------------------------------------------------


def _local(stamp: str | None, timezone: str) -> str:
    if not stamp:
        return "desconocida"
    return f"{datetime.fromisoformat(stamp).astimezone(ZoneInfo(timezone)):%d-%m-%Y %H:%M}"


def _boot_panel(console: Console, runtime: HarnessRuntime, seconds: float) -> None:
    from rich.panel import Panel

    settings = runtime.settings
    lines = [
        f"Datos: {settings.data_dir}",
        f"Modelos: {', '.join(sorted(set(runtime.seat_models.values())))}",
        f"Arranque: {seconds:.2f} s",
    ]
    if runtime.nexo_enabled:
        lines.insert(0, f"[green]Nexo habilitado[/]: {len(runtime.nexo_registered)} herramientas")
    else:
        lines.insert(0, f"[red]Nexo deshabilitado[/]: {runtime.nexo_reason}")
    console.print(Panel("\n".join(lines), title="miot-harness", expand=False))


def render_record(
    console: Console, record: HarnessRunRecord, settings: HarnessSettings, title: str
) -> None:
    """Answer, plan, tool calls, freshness and timings of one run."""
    from rich.markdown import Markdown
    from rich.panel import Panel
    from rich.table import Table

    from miot_harness.schemas import Clarification

    status_colour = {
        "completed": "green",
        "refused": "yellow",
        "failed": "red",
        "needs_input": "cyan",
    }
    colour = status_colour.get(record.status.value, "white")
    route = record.route.value if record.route else "-"
    subtitle = f"[{colour}]{record.status.value}[/] · ruta {route} · tenant {record.tenant_id}"
    console.print(Panel(Markdown(record.answer or ""), title=title, subtitle=subtitle))
    clarification = record.artifacts.get("clarification")
    if clarification:
        _clarification(console, Clarification.model_validate(clarification), record.thread_id)

    plan = record.artifacts.get("nexo_plan") or record.artifacts.get("story_plan") or {}
    steps = plan.get("steps") or []
    if steps:
        table = Table("plan", "herramienta", "argumentos", title=None, show_edge=False)
        for number, step in enumerate(steps, start=1):
            args = ", ".join(f"{k}={v}" for k, v in (step.get("args") or {}).items())
            table.add_row(str(number), step.get("tool", ""), args or "-")
        console.print(table)

    calls = Table("herramienta", "filas", "truncada", "actualizado", "ms", show_edge=False)
    for event in record.events:
        payload = event.payload
        if event.type.value == "tool.completed":
            calls.add_row(
                str(payload.get("tool")),
                str(payload.get("row_count")),
                "sí" if payload.get("truncated") else "no",
                _local(payload.get("refreshed_at"), settings.timezone),
                f"{payload.get('duration_ms', 0):.1f}",
            )
        elif event.type.value == "tool.failed":
            calls.add_row(str(payload.get("tool")), "-", "-", str(payload.get("message")), "-")
    if calls.row_count:
        console.print(calls)
    console.print(_freshness(record, settings))
    console.print(_timings(record))
    console.print()


def _clarification(console: Console, clarification: Clarification, thread_id: str) -> None:
    """What did not match, and each option as the command that sends it on the same thread."""
    from rich.markup import escape

    for value in clarification.unresolved:
        near = ", ".join(value.suggestions) or "ninguno cercano"
        console.print(
            f"Sin coincidencia: [bold]{escape(value.text)}[/] ({escape(value.filter)}); "
            f"valores parecidos: {escape(near)}"
        )
    if not clarification.options:
        return
    console.print("[bold]Opciones[/] (responde en el mismo hilo):")
    for number, option in enumerate(clarification.options, start=1):
        command = f"miot-harness ask {shlex.quote(option.message)} --thread-id {thread_id}"
        console.print(f"  {number}. {escape(option.label)}\n     [dim]{escape(command)}[/]")


def _freshness(record: HarnessRunRecord, settings: HarnessSettings) -> str:
    """The oldest refresh time the run cited, its age, and whether the judge warned."""
    stamps = [
        datetime.fromisoformat(event.payload["refreshed_at"])
        for event in record.events
        if event.type.value == "tool.completed" and event.payload.get("refreshed_at")
    ]
    if not stamps:
        return "[dim]Frescura: sin datos consultados[/]"
    oldest = min(stamps)
    age = ((record.finished_at or oldest) - oldest).total_seconds() / 60
    warned = any(event.type.value == "freshness.warning" for event in record.events)
    colour, label = ("yellow", "desactualizados") if warned else ("green", "frescos")
    return (
        f"Frescura: [{colour}]{label}[/], actualizados "
        f"{_local(oldest.isoformat(), settings.timezone)} ({settings.timezone}), "
        f"hace {age:.0f} min"
    )


def _timings(record: HarnessRunRecord) -> str:
    last = record.events[-1].payload if record.events else {}
    elapsed = (
        (record.finished_at - record.created_at).total_seconds() * 1000
        if record.finished_at
        else 0.0
    )
    return (
        f"[dim]{elapsed:.0f} ms · {last.get('tool_calls', 0)} herramienta(s) · "
        f"{last.get('model_calls', 0)} llamada(s) al modelo · "
        f"{last.get('input_tokens', 0)}+{last.get('output_tokens', 0)} tokens · "
        f"run {record.run_id}[/]"
    )


# --- commands ----------------------------------------------------------------------------


async def _demo(settings: HarnessSettings, console: Console) -> int:
    from miot_harness.demo import ensure_demo_database
    from miot_harness.runtime import open_runtime
    from miot_harness.schemas import UserRequest

    started = time.perf_counter()
    console.print("Preparando la base de demostración embebida…")
    async with open_runtime(settings, demo_database=ensure_demo_database) as runtime:
        _boot_panel(console, runtime, time.perf_counter() - started)
        if not runtime.nexo_enabled:
            console.print("[red]La demo necesita Nexo habilitado.[/]")
            return 1
        unexpected = []
        for number, question in enumerate(DEMO_QUESTIONS, start=1):
            tenant = question.tenant_id or settings.nexo_tenant_lock
            console.rule(f"{number}. {question.title}")
            console.print(f"[bold]Pregunta[/] ({tenant}): {question.message}")
            record = await runtime.supervisor.run(
                UserRequest(message=question.message), tenant_id=tenant, user_id="demo"
            )
            render_record(console, record, settings, question.title)
            if record.status.value != question.expected_status:
                unexpected.append(f"{question.title}: {record.status.value}")
    if unexpected:
        console.print(f"[red]Resultados inesperados[/]: {'; '.join(unexpected)}")
        return 1
    console.print(f"[green]Demo completa[/] en {time.perf_counter() - started:.1f} s.")
    return 0


@app.command()
def demo(data_dir: DataDir = None, verbose: Verbose = False) -> None:
    """Start the embedded demo database and answer four sample questions (no keys needed)."""
    from rich.console import Console

    _configure_logging(verbose)
    exit_on_sigterm()
    settings = settings_or_exit(data_dir)
    raise typer.Exit(asyncio.run(_demo(settings, Console())))


async def _ask(settings: HarnessSettings, request: Any, tenant_id: str) -> HarnessRunRecord | None:
    """The run's record, or None when `--thread-id` names another user's thread."""
    from miot_harness.api.auth import OPEN_USER
    from miot_harness.mcp.serve import demo_resolver
    from miot_harness.runtime import open_runtime

    # The local operator, as on a keyless server: a thread begun on the local page goes on here.
    user_id = request.user_id or OPEN_USER
    async with open_runtime(settings, demo_database=demo_resolver(settings)) as runtime:
        if request.thread_id is not None and not await runtime.store.claim_thread(
            request.thread_id, tenant_id, user_id
        ):
            return None
        return await runtime.supervisor.run(request, tenant_id=tenant_id, user_id=user_id)


def _thread_owned(record: HarnessRunRecord | None) -> HarnessRunRecord:
    """The record; exit 2 when there is none because the thread is another user's."""
    if record is None:
        from miot_harness.store import NO_SUCH_THREAD

        typer.echo(f"--thread-id: {NO_SUCH_THREAD}", err=True)
        raise typer.Exit(2)
    return record


@app.command()
def ask(
    message: Annotated[str, typer.Argument(help="The question, in Spanish or English.")],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the run record as JSON (as POST /runs).")
    ] = False,
    thread_id: Annotated[
        str | None, typer.Option("--thread-id", help="Continue this thread.")
    ] = None,
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="Tenant (default: the tenant lock).")
    ] = None,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> None:
    """Answer one question against the configured database (or the embedded demo one)."""
    from pydantic import ValidationError

    from miot_harness.schemas import UserRequest

    _configure_logging(verbose)
    exit_on_sigterm()
    settings = settings_or_exit(data_dir)
    try:
        request = UserRequest(message=message, thread_id=thread_id, tenant_id=tenant)
    except ValidationError as exc:
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            typer.echo(f"{field}: {error['msg']}", err=True)
        raise typer.Exit(2) from None
    tenant_id = request.tenant_id or settings.nexo_tenant_lock
    if json_output:
        # stdout carries only the JSON record; boot output (children included) goes to stderr.
        from miot_harness.mcp.serve import stdout_to_stderr

        with stdout_to_stderr():
            record = _thread_owned(asyncio.run(_ask(settings, request, tenant_id)))
        sys.stdout.write(record.model_dump_json() + "\n")
        sys.stdout.flush()
    else:
        from rich.console import Console

        record = _thread_owned(asyncio.run(_ask(settings, request, tenant_id)))
        render_record(Console(), record, settings, "Respuesta")
    raise typer.Exit(1 if record.status.value == "failed" else 0)


@app.command()
def serve(
    demo: Annotated[
        bool, typer.Option("--demo", help="Boot against the embedded demo database.")
    ] = False,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    data_dir: DataDir = None,
    verbose: Verbose = False,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Worker processes [default: the number of cores with a shared "
            "MIOT_HARNESS_STORE_DSN, else 1].",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the HTTP API (and the operator page) with uvicorn."""
    import uvicorn

    from miot_harness.api.app import create_app
    from miot_harness.api.auth import OpenServerRefused, ensure_bind_allowed
    from miot_harness.api.serving import uvicorn_limits

    _configure_logging(verbose)
    settings = settings_or_exit(data_dir)
    try:
        ensure_bind_allowed(settings, host)
    except OpenServerRefused as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    count = workers or (1 if demo else default_workers(settings))
    if count == 1:
        uvicorn.run(
            create_app(settings, demo=demo),
            host=host,
            port=port,
            log_level="info",
            **uvicorn_limits(settings),
        )
        return
    if demo:
        typer.echo("--demo serves one worker: the embedded database is per process", err=True)
        raise typer.Exit(2)
    if settings.store_dsn is None:
        typer.echo(
            f"warning: {count} workers share one SQLite store; its writer lock serialises "
            "them (set MIOT_HARNESS_STORE_DSN to share a PostgreSQL store)",
            err=True,
        )
    # Each worker process builds its app from the environment; the data directory chosen
    # here goes with it.
    os.environ["MIOT_HARNESS_DATA_DIR"] = str(settings.data_dir)
    uvicorn.run(
        "miot_harness.api.server:create_app",
        factory=True,
        workers=count,
        host=host,
        port=port,
        log_level="info",
        **uvicorn_limits(settings),
    )


def default_workers(settings: HarnessSettings) -> int:
    """One worker per core when the run store is shared PostgreSQL, else one: a SQLite store
    lives on one machine and its single writer would serialise the workers anyway."""
    return (os.cpu_count() or 1) if settings.store_dsn is not None else 1
