"""`miot-harness serve` in a real uvicorn process cuts off slow clients: a request head sent a
byte at a time, or never, is closed after MIOT_HARNESS_HEADER_TIMEOUT_S; normal requests pass."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from api_support import free_port

from miot_harness.api.serving import HeaderTimeoutH11Protocol, uvicorn_limits
from miot_harness.settings import load_settings

HEADER_TIMEOUT_S = 2
HEAD = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow-loris\r\n\r\n"
BYTE_EVERY_S = 0.25


def _start(command: list[str], root: Path, port: int) -> subprocess.Popen[bytes]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("MIOT_HARNESS_")}
    env = {
        **inherited,
        "MIOT_HARNESS_DATA_DIR": str(root / "data"),
        "MIOT_HARNESS_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
        "MIOT_HARNESS_KEEP_ALIVE_TIMEOUT_S": "1",
    }
    with (root / "server.log").open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    while True:
        assert process.poll() is None, (root / "server.log").read_text("utf-8", "replace")
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
            return process
        except httpx.TransportError:
            time.sleep(0.1)


@contextmanager
def _running(command: list[str], root: Path, port: int) -> Iterator[str]:
    process = _start(command, root, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`miot-harness serve` as an operator starts it."""
    port = free_port()
    command = [sys.executable, "-m", "miot_harness", "serve", "--port", str(port)]
    with _running(command, tmp_path_factory.mktemp("serve"), port) as url:
        yield url


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _closed_by_server(sock: socket.socket) -> bool:
    """True once the peer has closed: a read returns b'' (or the connection was reset)."""
    try:
        return sock.recv(1024) == b""
    except (BlockingIOError, TimeoutError):
        return False
    except ConnectionError:
        return True


def test_a_head_sent_a_byte_at_a_time_is_closed_within_the_header_timeout(served: str) -> None:
    with socket.create_connection(("127.0.0.1", _port(served))) as sock:
        sock.setblocking(False)
        started = time.monotonic()
        sent = 0
        closed = False
        while sent < len(HEAD) and not closed:
            try:
                sock.send(HEAD[sent : sent + 1])
                sent += 1
            except ConnectionError:
                closed = True
                break
            time.sleep(BYTE_EVERY_S)
            closed = _closed_by_server(sock)
        elapsed = time.monotonic() - started
    assert closed, f"the server kept a {sent}-byte trickle open for {elapsed:.1f}s"
    assert sent < len(HEAD), "closed before the head was complete"
    # The byte-per-interval client needs ~17 s for the head; the server cut it off at the
    # configured timeout (one sleep interval of slack for when the client notices).
    assert elapsed < HEADER_TIMEOUT_S + 2 * BYTE_EVERY_S + 1, elapsed


def test_a_connection_that_sends_nothing_is_closed(served: str) -> None:
    with socket.create_connection(("127.0.0.1", _port(served))) as sock:
        sock.settimeout(HEADER_TIMEOUT_S * 5)
        started = time.monotonic()
        assert sock.recv(1024) == b""
        assert time.monotonic() - started < HEADER_TIMEOUT_S * 5


def test_uvicorn_started_directly_with_the_protocol_closes_a_silent_connection(
    tmp_path: Path,
) -> None:
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "miot_harness.api.server:create_app", "--factory",
        "--port", str(port), "--http", "miot_harness.api.serving:HeaderTimeoutH11Protocol",
    ]  # fmt: skip
    with _running(command, tmp_path, port) as url:
        test_a_connection_that_sends_nothing_is_closed(url)


def test_normal_requests_on_one_connection_still_pass(served: str) -> None:
    with httpx.Client(base_url=served) as client:
        for _ in range(3):
            assert client.get("/health").status_code in (200, 503)
            time.sleep(0.2)


def test_serve_passes_every_limit_from_settings() -> None:
    settings = load_settings(
        header_timeout_s=3, keep_alive_timeout_s=4, max_connections=7, max_header_bytes=4096
    )
    limits = uvicorn_limits(settings)
    assert limits["http"].func is HeaderTimeoutH11Protocol
    assert limits["http"].keywords == {"header_timeout_s": 3}
    assert (
        limits["timeout_keep_alive"],
        limits["limit_concurrency"],
        limits["h11_max_incomplete_event_size"],
    ) == (4, 7, 4096)
