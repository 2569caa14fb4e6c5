"""Building, refreshing, shifting and inspecting a demo Coordinador database (superuser/owner)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg import sql

from miot_harness.demo.generator import DemoGenerator, DemoSpec
from miot_harness.demo.layout import (
    HARNESS_ROLE,
    OWNER_ROLE,
    SQL_ROOT,
    SUPERUSER,
)
from miot_harness.demo.loader import LoadStats, copy_generated
from miot_harness.demo.vocabulary import CARRIERS, CENTRES, CLIENTS, REGIONS

T = TypeVar("T")
BASE_TABLES = ("servicio", "proc_inst", "pod", "evento")
SNAPSHOT_TABLES = ("snap_servicio", "snap_pod")


@dataclass(frozen=True)
class ServerAddress:
    """Where a running cluster listens (Unix socket directory and port)."""

    socket_dir: str
    port: int

    def superuser_dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@/{dbname}?host={self.socket_dir}&port={self.port}"

    def connect(self, dbname: str = "postgres") -> psycopg.Connection[Any]:
        """An autocommit superuser connection (trust over the local socket)."""
        return psycopg.connect(self.superuser_dsn(dbname), autocommit=True)


@dataclass(frozen=True)
class SeedReport:
    """What a seed produced and how long each phase took."""

    spec: DemoSpec
    load: LoadStats
    schema_s: float
    post_load_s: float
    refresh_s: float
    size_bytes: int


@dataclass(frozen=True)
class DemoStatus:
    """Row counts, snapshot stamps and the stored demo parameters of one database."""

    dbname: str
    row_counts: dict[str, int]
    refreshed_at: dict[str, datetime]
    parametros: dict[str, str] = field(default_factory=dict)
    size_bytes: int = 0


def run_coroutine(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from sync code, in a worker thread when this thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def sql_files(directory: str) -> list[Path]:
    """The SQL files of `db/<directory>` in file-name order."""
    return sorted((SQL_ROOT / directory).glob("*.sql"))


def apply_sql(conn: psycopg.Connection[Any], paths: list[Path]) -> None:
    for path in paths:
        conn.execute(path.read_text(encoding="utf-8"))  # type: ignore[arg-type]


def ensure_roles(conn: psycopg.Connection[Any], passwords: dict[str, str]) -> None:
    """Create the cluster roles when absent and (re)set their passwords."""
    apply_sql(conn, [SQL_ROOT / "roles" / "010_roles.sql"])
    for role, password in passwords.items():
        conn.execute(
            sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role), sql.Literal(password))
        )


def database_exists(conn: psycopg.Connection[Any], dbname: str) -> bool:
    row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
    return row is not None


def drop_database(conn: psycopg.Connection[Any], dbname: str) -> None:
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


def configure_database(conn: psycopg.Connection[Any], dbname: str, timezone: str) -> None:
    """Database-level settings a template copy does not carry: zone, CONNECT, no TEMP."""
    ident = sql.Identifier(dbname)
    conn.execute(
        sql.SQL("ALTER DATABASE {} SET timezone = {}").format(ident, sql.Literal(timezone))
    )
    conn.execute(sql.SQL("REVOKE TEMPORARY, CREATE ON DATABASE {} FROM PUBLIC").format(ident))
    conn.execute(
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(ident, sql.Identifier(HARNESS_ROLE))
    )


def _reference_data(conn: psycopg.Connection[Any], spec: DemoSpec) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO nexo.parametro (clave, valor) VALUES (%s, %s)",
            [
                ("timezone", spec.timezone),
                ("anchor_date", spec.anchor.isoformat()),
                ("as_of", spec.as_of.isoformat(timespec="minutes")),
                ("seed", str(spec.seed)),
                ("scale", str(spec.scale)),
            ],
        )
        cur.executemany(
            "INSERT INTO nexo.region (nombre, codigo, alias) VALUES (%s, %s, %s)",
            [(r.nombre, r.codigo, list(r.alias)) for r in REGIONS],
        )
        cur.executemany(
            "INSERT INTO nexo.comuna (nombre, region) VALUES (%s, %s)",
            [(comuna, r.nombre) for r in REGIONS for comuna, _ in r.comunas],
        )
        cur.executemany(
            "INSERT INTO nexo.centro (nombre, region, comuna) VALUES (%s, %s, %s)", CENTRES
        )
        cur.executemany(
            "INSERT INTO nexo.cliente (nombre, prioritario) VALUES (%s, %s)",
            [(c.nombre, c.prioritario) for c in CLIENTS],
        )
        cur.executemany(
            "INSERT INTO nexo.transportista (nombre, capacidad_diaria) VALUES (%s, %s)",
            [(c.nombre, c.capacidad_diaria) for c in CARRIERS],
        )


def build_database(
    address: ServerAddress, dbname: str, spec: DemoSpec, stale_minutes: int | None = None
) -> SeedReport:
    """Build `dbname` from scratch under a temporary name, then swap it in (never half-seeded)."""
    building = f"{dbname}__building"
    try:
        # Created inside the try: a SIGTERM right after CREATE must still drop it.
        with address.connect() as admin:
            drop_database(admin, building)
            admin.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(building), sql.Identifier(OWNER_ROLE)
                )
            )
        t0 = time.perf_counter()
        with address.connect(building) as conn:
            conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(OWNER_ROLE)))
            apply_sql(conn, sql_files("schema"))
            _reference_data(conn, spec)
        schema_s = time.perf_counter() - t0
        load = run_coroutine(copy_generated(address.superuser_dsn(building), DemoGenerator(spec)))
        t1 = time.perf_counter()
        with address.connect(building) as conn:
            conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(OWNER_ROLE)))
            apply_sql(conn, sql_files("post_load"))
            apply_sql(conn, [SQL_ROOT / "roles" / "020_grants.sql"])
            post_load_s = time.perf_counter() - t1
            t2 = time.perf_counter()
            refresh_snapshots(conn, stale_minutes)
            refresh_s = time.perf_counter() - t2
        with address.connect() as admin:
            drop_database(admin, dbname)
            admin.execute(
                sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                    sql.Identifier(building), sql.Identifier(dbname)
                )
            )
            configure_database(admin, dbname, spec.timezone)
            size = admin.execute("SELECT pg_database_size(%s)", (dbname,)).fetchone()
    except BaseException:
        with address.connect() as admin:
            drop_database(admin, building)
        raise
    return SeedReport(spec, load, schema_s, post_load_s, refresh_s, int(size[0]) if size else 0)


def refresh_snapshots(
    conn: psycopg.Connection[Any], stale_minutes: int | None = None
) -> dict[str, datetime]:
    """Run `fn_refresh_all()` as the owner; with `stale_minutes`, stamp the snapshots that old."""
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(OWNER_ROLE)))
        conn.execute("SELECT nexo.fn_refresh_all()")
        if stale_minutes is not None:
            stamp_snapshots(conn, stale_minutes)
    return snapshot_stamps(conn)


def stamp_snapshots(conn: psycopg.Connection[Any], minutes_ago: int) -> None:
    """Pretend every snapshot was rebuilt `minutes_ago` minutes ago (stale-data tests and evals)."""
    conn.execute(
        "UPDATE nexo.snapshot_refresh SET refreshed_at = now() - make_interval(mins => %s)",
        (minutes_ago,),
    )


def snapshot_stamps(conn: psycopg.Connection[Any]) -> dict[str, datetime]:
    rows = conn.execute(
        "SELECT snapshot, refreshed_at FROM nexo.snapshot_refresh ORDER BY 1"
    ).fetchall()
    return {name: stamp for name, stamp in rows}


def anchor_date(conn: psycopg.Connection[Any]) -> date:
    row = conn.execute("SELECT valor FROM nexo.parametro WHERE clave = 'anchor_date'").fetchone()
    assert row is not None, "nexo.parametro has no anchor_date"
    return date.fromisoformat(row[0])


def shift_dates(conn: psycopg.Connection[Any], today: date) -> int:
    """Move every date by (today - anchor) days in the database's zone; returns the day count."""
    days = (today - anchor_date(conn)).days
    if days == 0:
        return 0
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(OWNER_ROLE)))
        zone = conn.execute("SELECT valor FROM nexo.parametro WHERE clave = 'timezone'").fetchone()
        assert zone is not None
        # Adding days in the data's own zone keeps local wall-clock times across DST changes.
        conn.execute("SELECT set_config('TimeZone', %s, true)", (zone[0],))
        step = "make_interval(days => %(days)s)"
        for statement in (
            f"UPDATE nexo.servicio SET fecha_creacion = fecha_creacion + {step}, "
            f"fecha_compromiso = fecha_compromiso + {step}, "
            f"fecha_entrega = fecha_entrega + {step}, eta = eta + {step}",
            f"UPDATE nexo.proc_inst SET inicio = inicio + {step}, fin = fin + {step}",
            f"UPDATE nexo.pod SET registrado_en = registrado_en + {step}",
            f"UPDATE nexo.evento SET ocurrido_en = ocurrido_en + {step}",
        ):
            conn.execute(statement, {"days": days})  # type: ignore[arg-type]
        conn.execute(
            "UPDATE nexo.parametro SET valor = %s WHERE clave = 'anchor_date'", (today.isoformat(),)
        )
    return days


def database_status(conn: psycopg.Connection[Any]) -> DemoStatus:
    counts = {}
    for table in (*BASE_TABLES, *SNAPSHOT_TABLES):
        query = sql.SQL("SELECT count(*) FROM nexo.{}").format(sql.Identifier(table))
        row = conn.execute(query).fetchone()
        counts[table] = int(row[0]) if row else 0
    parametros = dict(conn.execute("SELECT clave, valor FROM nexo.parametro ORDER BY 1").fetchall())
    size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return DemoStatus(
        dbname=str(conn.info.dbname),
        row_counts=counts,
        refreshed_at=snapshot_stamps(conn),
        parametros=parametros,
        size_bytes=int(size[0]) if size else 0,
    )


DIGEST_SQL = """
SELECT md5(string_agg(part, '|' ORDER BY ord)) FROM (
    SELECT 1 AS ord, (SELECT md5(string_agg(md5(t::text), '' ORDER BY t.id))
                      FROM nexo.servicio t) AS part
    UNION ALL SELECT 2, (SELECT md5(string_agg(md5(t::text), '' ORDER BY t.id))
                         FROM nexo.proc_inst t)
    UNION ALL SELECT 3, (SELECT md5(string_agg(md5(t::text), '' ORDER BY t.servicio_id))
                         FROM nexo.pod t)
    UNION ALL SELECT 4, (SELECT md5(string_agg(md5(t::text), '' ORDER BY t.id))
                         FROM nexo.evento t)
) parts
"""


def data_digest(conn: psycopg.Connection[Any]) -> str:
    """md5 over the ordered base-table rows, rendered in UTC so the session zone cannot matter."""
    with conn.transaction():
        conn.execute("SET LOCAL TimeZone = 'UTC'")
        row = conn.execute(DIGEST_SQL).fetchone()
    assert row is not None
    return str(row[0])
