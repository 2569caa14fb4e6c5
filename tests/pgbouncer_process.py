"""A Debian PgBouncer in transaction pooling in front of an embedded server, on 127.0.0.1.

Run as the server's own user when the tests run as root (PgBouncer refuses root). The port
stays the same across `restart`, so clients may reconnect to the new process.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from system_binaries import require_binary

SERVICE_USER = "embedded_postgres"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgBouncerProcess:
    """One PgBouncer for `users` (name → password) in front of the server at `socket_dir`."""

    def __init__(
        self, socket_dir: str, port: int, users: dict[str, str], *, server_pool: int
    ) -> None:
        self.binary = require_binary("pgbouncer", "pgbouncer")
        self.run_dir = Path(tempfile.mkdtemp(prefix="miot-pgb-"))
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        (self.run_dir / "userlist.txt").write_text(
            "".join(f'"{user}" "{password}"\n' for user, password in users.items())
        )
        (self.run_dir / "pgbouncer.ini").write_text(
            f"""[databases]
* = host={socket_dir} port={port}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {self.run_dir}/userlist.txt
pool_mode = transaction
default_pool_size = {server_pool}
max_client_conn = 500
logfile = {self.run_dir}/pgbouncer.log
pidfile = {self.run_dir}/pgbouncer.pid
"""
        )

    def start(self) -> PgBouncerProcess:
        command = [self.binary, str(self.run_dir / "pgbouncer.ini")]
        if os.geteuid() == 0:
            # PgBouncer refuses to run as root; the server's user can also reach its socket.
            shutil.chown(self.run_dir, SERVICE_USER)
            for path in self.run_dir.iterdir():
                shutil.chown(path, SERVICE_USER)
            command[1:1] = ["-u", SERVICE_USER]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._wait_listening()
        return self

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited: {self.log()}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("pgbouncer did not start listening")

    def kill(self) -> None:
        """End it at once (SIGKILL): every client link drops mid-transaction."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None
            (self.run_dir / "pgbouncer.pid").unlink(missing_ok=True)

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def log(self) -> str:
        path = self.run_dir / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""
