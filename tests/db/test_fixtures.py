"""The shared database fixtures behave as other test modules rely on."""

from __future__ import annotations

import asyncpg
import pytest

from miot_harness.demo.cluster import DemoConnection
from miot_harness.demo.layout import env_path, read_env


async def test_demo_db_harness_login_reads_functions(demo_db: DemoConnection) -> None:
    conn = await asyncpg.connect(demo_db.harness_dsn)
    try:
        total = await conn.fetchval("SELECT nexo.fn_dx_conteo_servicios()")
        user = await conn.fetchval("SELECT current_user")
    finally:
        await conn.close()
    assert total == 2000
    assert user == "harness"


async def test_demo_db_rejects_a_wrong_password(demo_db: DemoConnection) -> None:
    wrong = demo_db.harness_dsn.replace("harness:", "harness:x", 1)
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(wrong)


def test_demo_db_env_file_points_at_the_database(demo_db: DemoConnection) -> None:
    path = env_path(demo_db.db_scripts_root, demo_db.alias)
    creds = read_env(path)
    assert creds is not None
    assert (creds.database, creds.user, creds.host) == (
        "coordinador",
        "harness",
        demo_db.socket_dir,
    )
    assert path.stat().st_mode & 0o777 == 0o600


async def test_clone_is_writable_by_owner_and_isolated(
    demo_db: DemoConnection, demo_db_clone: DemoConnection
) -> None:
    assert demo_db_clone.dbname != demo_db.dbname
    owner = await asyncpg.connect(demo_db_clone.owner_dsn)
    try:
        await owner.execute("DELETE FROM nexo.evento")
        left = await owner.fetchval("SELECT count(*) FROM nexo.evento")
    finally:
        await owner.close()
    shared = await asyncpg.connect(demo_db.superuser_dsn)
    try:
        kept = await shared.fetchval("SELECT count(*) FROM nexo.evento")
    finally:
        await shared.close()
    assert left == 0
    assert kept > 0
    creds = read_env(env_path(demo_db_clone.db_scripts_root, demo_db_clone.alias))
    assert creds is not None and creds.database == demo_db_clone.dbname


async def test_scratch_db_is_empty_and_writable(scratch_db: str) -> None:
    conn = await asyncpg.connect(scratch_db)
    try:
        await conn.execute("CREATE SCHEMA zoo; CREATE TABLE zoo.t (x int)")
        tables = await conn.fetchval(
            "SELECT count(*) FROM pg_tables"
            " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        )
    finally:
        await conn.close()
    assert tables == 1
