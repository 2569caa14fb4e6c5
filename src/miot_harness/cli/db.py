"""`miot-harness db`: manage the embedded Coordinador demo database (heavy imports deferred)."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from miot_harness.cli.common import DataDir, exit_on_sigterm, settings_or_exit

if TYPE_CHECKING:
    from rich.console import Console

    from miot_harness.demo.cluster import DemoCluster, DemoConnection
    from miot_harness.demo.seeding import DemoStatus

app = typer.Typer(help="Manage the embedded Coordinador demo database.", no_args_is_help=True)

StaleMinutes = Annotated[
    int | None,
    typer.Option("--stale-minutes", min=0, help="Stamp the snapshots this many minutes old."),
]


def _console() -> Console:
    from rich.console import Console

    return Console(soft_wrap=True)


def _cluster(data_dir: Path | None) -> DemoCluster:
    from miot_harness.demo.cluster import DemoCluster

    return DemoCluster.from_settings(settings_or_exit(), data_dir)


def _print_connection(console: Console, connection: DemoConnection) -> None:
    console.print(f"[bold]DSN (harness):[/bold] {connection.masked_dsn}")
    console.print(f"MIOT_HARNESS_NEXO_DB_SCRIPTS_ROOT={connection.db_scripts_root}")
    console.print(f"MIOT_HARNESS_NEXO_DB_ALIAS={connection.alias}")


def _print_status(console: Console, status: DemoStatus) -> None:
    from rich.table import Table

    counts = Table(title=f"Base de datos {status.dbname}")
    counts.add_column("tabla")
    counts.add_column("filas", justify="right")
    for table, rows in status.row_counts.items():
        counts.add_row(f"nexo.{table}", f"{rows:,}")
    console.print(counts)
    stamps = Table(title="Snapshots")
    stamps.add_column("snapshot")
    stamps.add_column("refreshed_at")
    for snapshot, stamp in status.refreshed_at.items():
        stamps.add_row(snapshot, stamp.isoformat(timespec="seconds"))
    console.print(stamps)
    params = ", ".join(f"{key}={value}" for key, value in status.parametros.items())
    console.print(f"{params}; tamaño {status.size_bytes / 1e6:.1f} MB")


@app.command()
def up(data_dir: DataDir = None) -> None:
    """Start the server and create schema, roles and data when absent (idempotent)."""
    exit_on_sigterm()
    console = _console()
    cluster = _cluster(data_dir)
    connection = cluster.up()
    console.print(f"[green]Demo Coordinador listo[/green] en {cluster.layout.pg_dir}")
    _print_connection(console, connection)


@app.command()
def seed(
    seed: Annotated[int | None, typer.Option(help="Random seed (default: the demo seed).")] = None,
    scale: Annotated[int | None, typer.Option(min=1, help="Number of servicios.")] = None,
    anchor_date: Annotated[
        str | None, typer.Option(help="Anchor date YYYY-MM-DD (default: today in the zone).")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            help="Local time HH:MM the data describes (default: now for today, else 12:00)."
        ),
    ] = None,
    stale_minutes: StaleMinutes = None,
    data_dir: DataDir = None,
) -> None:
    """Rebuild the demo data deterministically from (seed, scale, anchor date, as-of time)."""
    from dataclasses import replace

    from miot_harness.demo.generator import DemoSpec

    exit_on_sigterm()
    console = _console()
    cluster = _cluster(data_dir)
    spec = cluster.default_spec()
    try:
        anchor = date.fromisoformat(anchor_date) if anchor_date else spec.anchor
    except ValueError:
        console.print(f"[red]--anchor-date must be YYYY-MM-DD, got {anchor_date!r}[/red]")
        raise typer.Exit(2) from None
    try:
        moment = time.fromisoformat(as_of) if as_of else None
    except ValueError:
        console.print(f"[red]--as-of must be HH:MM, got {as_of!r}[/red]")
        raise typer.Exit(2) from None
    if moment is None:
        moment = spec.as_of if anchor == spec.anchor else DemoSpec().as_of
    spec = replace(
        spec,
        seed=spec.seed if seed is None else seed,
        scale=spec.scale if scale is None else scale,
        anchor=anchor,
        as_of=moment,
    )
    report = cluster.seed(spec, stale_minutes)
    load = report.load
    console.print(
        f"[green]Sembrado[/green] seed={spec.seed} scale={spec.scale:,} anchor={spec.anchor} "
        f"{spec.as_of:%H:%M}: "
        f"{load.servicios:,} servicios, {load.legs:,} tramos, {load.pods:,} POD, "
        f"{load.events:,} eventos"
    )
    console.print(
        f"generación {load.generate_s:.1f} s, COPY {load.copy_s:.1f} s, "
        f"índices {report.post_load_s:.1f} s, refresco {report.refresh_s:.1f} s, "
        f"tamaño {report.size_bytes / 1e6:.1f} MB"
    )
    console.print(f"digest {cluster.digest()}")
    _print_connection(console, cluster.connection())


@app.command()
def refresh(stale_minutes: StaleMinutes = None, data_dir: DataDir = None) -> None:
    """Rebuild the snapshots as the owner (fn_refresh_all)."""
    console = _console()
    cluster = _cluster(data_dir)
    try:
        stamps = cluster.refresh(stale_minutes)
    except RuntimeError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    for snapshot, stamp in stamps.items():
        console.print(f"{snapshot}: refreshed_at {stamp.isoformat(timespec='seconds')}")


@app.command()
def status(data_dir: DataDir = None) -> None:
    """Row counts and each snapshot's refreshed_at (exit 1 when the database is not up)."""
    console = _console()
    cluster = _cluster(data_dir)
    current = cluster.status()
    if current is None:
        console.print(f"[yellow]El demo no está corriendo en {cluster.layout.pg_dir}[/yellow]")
        raise typer.Exit(1)
    _print_status(console, current)
    _print_connection(console, cluster.connection())


@app.command()
def down(data_dir: DataDir = None) -> None:
    """Stop the embedded server."""
    cluster = _cluster(data_dir)
    stopped = cluster.down()
    _console().print("Servidor detenido." if stopped else "El servidor no estaba corriendo.")
