"""The `miot-harness` command line: one sub-module per command group, heavy imports deferred."""

import typer

from miot_harness.cli import db, mcp, run, tools

app = typer.Typer(
    name="miot-harness",
    help="Governed conversational harness over Coordinador's read-only SQL functions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(run.app)
app.add_typer(mcp.app)
app.add_typer(db.app, name="db")
app.add_typer(tools.app, name="tools")


def main() -> None:
    app()
