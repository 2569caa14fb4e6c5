"""What every command group shares: the data-directory option, settings, SIGTERM handling."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from miot_harness.settings import HarnessSettings

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory (default: MIOT_HARNESS_DATA_DIR)."),
]


def settings_or_exit(data_dir: Path | None = None) -> HarnessSettings:
    """The environment's settings (with `data_dir` if given); exit 2 with the reason if invalid."""
    from miot_harness.settings import SettingsError, load_settings

    try:
        return load_settings(**({"data_dir": data_dir} if data_dir else {}))
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so clean-up (pools, stores, locks) runs on the way out."""

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
