"""The CLI as a user runs it: `python -m miot_harness` in a subprocess on a fresh machine's
environment, once to completion or as a server on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

COMMAND_TIMEOUT_S = 240


def clean_env(data_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without harness settings or provider keys, on `data_dir`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MIOT_HARNESS_", "ANTHROPIC_", "OPENAI_"))
    }
    env["MIOT_HARNESS_DATA_DIR"] = str(data_dir)
    env["COLUMNS"] = "160"
    return {**env, **(extra or {})}


def harness(
    data_dir: Path, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `miot-harness ARGS` to completion (in `data_dir` unless `cwd`), output captured."""
    return subprocess.run(
        [sys.executable, "-m", "miot_harness", *args],
        env=clean_env(data_dir, env),
        cwd=cwd or data_dir,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    """A running `serve`: its URL, process, first /health answer and, once stopped, stderr."""

    base: str
    process: subprocess.Popen[str]
    health: httpx.Response | None = None
    errors: str = ""


@contextmanager
def serve(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Served]:
    """`miot-harness serve ARGS` on a free port until the block ends, once /health answers.

    `health` stays None when the server exits or stays silent for COMMAND_TIMEOUT_S.
    """
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "miot_harness", "serve", *args, "--port", str(port)],
        env=clean_env(data_dir, env),
        cwd=data_dir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    served = Served(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + COMMAND_TIMEOUT_S
        while time.monotonic() < deadline and process.poll() is None:
            try:
                served.health = httpx.get(f"{served.base}/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield served
    finally:
        process.terminate()
        _, served.errors = process.communicate(timeout=60)
