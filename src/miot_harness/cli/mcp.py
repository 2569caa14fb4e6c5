"""`miot-harness` commands: Serve the governed tools over the Model Context Protocol."""

import typer

from miot_harness.cli.common import settings_or_exit

app = typer.Typer(help="Serve the governed tools over the Model Context Protocol.")

DEFAULT_HTTP_PORT = 8765


@app.command("mcp")
def mcp(
    http: bool = typer.Option(False, "--http", help="Streamable HTTP instead of stdio."),
    host: str = typer.Option("127.0.0.1", help="Loopback address for --http."),
    port: int = typer.Option(DEFAULT_HTTP_PORT, help="Port for --http."),
) -> None:
    """Serve every coordinador_* tool and `ask` over MCP (stdio by default; logs go to stderr)."""
    import asyncio
    import logging
    import sys

    # stdout carries the protocol in stdio mode: every log line goes to stderr.
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    settings = settings_or_exit()
    from miot_harness.mcp.serve import LOOPBACK_HOSTS, serve_http, serve_stdio

    if http and host not in LOOPBACK_HOSTS:
        typer.echo(
            f"--host must be a loopback address ({', '.join(sorted(LOOPBACK_HOSTS))})", err=True
        )
        raise typer.Exit(2)
    asyncio.run(serve_http(settings, host, port) if http else serve_stdio(settings))
