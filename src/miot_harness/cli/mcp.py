"""`miot-harness` commands: Serve the governed tools over the Model Context Protocol."""

import typer

app = typer.Typer(help="Serve the governed tools over the Model Context Protocol.")
