"""`miot-harness` commands: Inspect and lint the tools built from the nexo catalogue."""

import typer

app = typer.Typer(
    help="Inspect and lint the tools built from the nexo catalogue.", no_args_is_help=True
)
