"""`miot-harness` commands: Manage the embedded Coordinador demo database."""

import typer

app = typer.Typer(help="Manage the embedded Coordinador demo database.", no_args_is_help=True)
