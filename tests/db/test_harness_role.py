"""Acceptance 2: check-harness-role.sql passes as harness, and fails when a grant is wrong."""

from __future__ import annotations

import psycopg
import pytest

from miot_harness.demo.cluster import DemoConnection
from miot_harness.demo.layout import env_path, read_env
from miot_harness.demo.role_check import run_role_check


def _harness(connection: DemoConnection):
    creds = read_env(env_path(connection.db_scripts_root, connection.alias))
    assert creds is not None
    return creds


def test_check_script_passes_as_harness(demo_db: DemoConnection) -> None:
    result = run_role_check(_harness(demo_db))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "check-harness-role: OK"


@pytest.mark.parametrize(
    ("broken_grant", "complaint"),
    [
        ("GRANT INSERT ON nexo.evento TO harness", "could run: INSERT INTO nexo.evento"),
        ("GRANT UPDATE ON nexo.snapshot_refresh TO harness", "UPDATE nexo.snapshot_refresh"),
        ("GRANT EXECUTE ON FUNCTION nexo.fn_refresh_pod() TO harness", "direct_leak = 1"),
        ("GRANT EXECUTE ON FUNCTION nexo.fn_dx_orchestrator() TO PUBLIC", "fn_dx_orchestrator"),
        ("GRANT CREATE ON SCHEMA nexo TO harness", "CREATE TABLE nexo.intruso"),
        (
            "REVOKE EXECUTE ON FUNCTION nexo.fn_dx_catalogo() FROM harness",
            "executable fn_dx_* are",
        ),
    ],
)
def test_check_script_fails_on_a_wrong_grant(
    demo_db_clone: DemoConnection, broken_grant: str, complaint: str
) -> None:
    with psycopg.connect(demo_db_clone.owner_dsn, autocommit=True) as owner:
        owner.execute(broken_grant)
    result = run_role_check(_harness(demo_db_clone))
    assert result.returncode != 0
    assert "check-harness-role: OK" not in result.stdout
    assert complaint in result.stderr


def test_check_script_fails_when_harness_may_create_temp_objects(
    demo_db_clone: DemoConnection,
) -> None:
    with psycopg.connect(demo_db_clone.superuser_dsn, autocommit=True) as admin:
        admin.execute(
            psycopg.sql.SQL("GRANT TEMPORARY ON DATABASE {} TO harness").format(
                psycopg.sql.Identifier(demo_db_clone.dbname)
            )
        )
    result = run_role_check(_harness(demo_db_clone))
    assert result.returncode != 0
    assert "temporary objects" in result.stderr


def test_direct_leak_query_sees_a_leaked_refresh_function(demo_db_clone: DemoConnection) -> None:
    leak = (
        "SELECT count(*) FROM pg_proc WHERE starts_with(proname, 'fn_refresh_')"
        " AND has_function_privilege(oid, 'EXECUTE')"
    )
    with psycopg.connect(demo_db_clone.harness_dsn) as harness:
        before = harness.execute(leak).fetchone()
    with psycopg.connect(demo_db_clone.owner_dsn, autocommit=True) as owner:
        owner.execute("GRANT EXECUTE ON FUNCTION nexo.fn_refresh_all() TO harness")
    with psycopg.connect(demo_db_clone.harness_dsn) as harness:
        after = harness.execute(leak).fetchone()
    assert before == (0,)
    assert after == (1,)


def test_harness_cannot_refresh_but_the_owner_can(demo_db_clone: DemoConnection) -> None:
    with (
        psycopg.connect(demo_db_clone.harness_dsn) as harness,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        harness.execute("SELECT nexo.fn_refresh_all()")
    with psycopg.connect(demo_db_clone.owner_dsn) as owner:
        stamp = owner.execute("SELECT nexo.fn_refresh_all()").fetchone()
    assert stamp is not None and stamp[0] is not None
