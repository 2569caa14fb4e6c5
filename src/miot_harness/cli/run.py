"""`miot-harness` commands: Answer questions: demo, ask, serve."""

import typer

app = typer.Typer(help="Answer questions: demo, ask, serve.")
