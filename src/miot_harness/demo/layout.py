"""Where the demo keeps things: the cluster, the db-scripts credentials and the repo's SQL."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

DEMO_ALIAS = "demo"
OWNER_ALIAS = "demo-owner"
DEMO_DBNAME = "coordinador"
SUPERUSER = "postgres"
HARNESS_ROLE = "harness"
OWNER_ROLE = "nexo_owner"


def _sql_root() -> Path:
    """`db/` of a source checkout, else the copy a wheel ships as `miot_harness/_db`."""
    checkout = Path(__file__).resolve().parents[3] / "db"
    return checkout if checkout.is_dir() else Path(__file__).resolve().parents[1] / "_db"


SQL_ROOT = _sql_root()


@dataclass(frozen=True)
class DataDirLayout:
    """The files of one demo data directory (SPEC 12 "Which database")."""

    data_dir: Path

    @property
    def pg_dir(self) -> Path:
        return self.data_dir / "pg"

    @property
    def lock_path(self) -> Path:
        return self.data_dir / ".demo-db.lock"

    @property
    def db_scripts_root(self) -> Path:
        return self.data_dir / "db-scripts"


@dataclass(frozen=True)
class PgCredentials:
    """The flat KEY=VALUE credentials of one db-scripts alias."""

    host: str
    port: int
    database: str
    user: str
    password: str

    def dsn(self, *, database: str | None = None) -> str:
        """An asyncpg/psycopg URI over the Unix socket, password URL-encoded."""
        auth = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}"
        db = quote(database or self.database, safe="")
        return f"postgresql://{auth}@/{db}?host={quote(self.host)}&port={self.port}"

    def masked_dsn(self) -> str:
        """The DSN with the password replaced, for printing."""
        return f"postgresql://{self.user}:****@/{self.database}?host={self.host}&port={self.port}"


def env_path(db_scripts_root: Path, alias: str) -> Path:
    """`<root>/databases/<alias>/.env`, the file the harness reads credentials from."""
    return db_scripts_root / "databases" / alias / ".env"


def write_env(path: Path, creds: PgCredentials) -> None:
    """Write credentials with mode 0600 (the directory 0700), created that way from the start."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    body = (
        f"PGHOST={creds.host}\nPGPORT={creds.port}\nPGDATABASE={creds.database}\n"
        f"PGUSER={creds.user}\nPGPASSWORD={creds.password}\n"
    )
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(body)
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def read_env(path: Path) -> PgCredentials | None:
    """Credentials stored at `path`, or None when the file does not exist."""
    if not path.exists():
        return None
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.strip().startswith("#"):
            values[key.strip()] = value.strip()
    return PgCredentials(
        host=values["PGHOST"],
        port=int(values.get("PGPORT", "5432")),
        database=values["PGDATABASE"],
        user=values["PGUSER"],
        password=values["PGPASSWORD"],
    )
