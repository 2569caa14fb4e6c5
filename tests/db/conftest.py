"""Fixtures for the demo-database tests: the reference model and a harness connection."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import psycopg
import pytest

from miot_harness.demo.cluster import DemoConnection

from .reference import Reference

TIMEZONE = "America/Santiago"


@pytest.fixture(scope="session")
def reference(demo_db: DemoConnection) -> Reference:
    """The demo database's base rows, read as superuser, for independent computations."""
    return Reference.load(demo_db.superuser_dsn, TIMEZONE)


@pytest.fixture(scope="module")
def harness(demo_db: DemoConnection) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection as the `harness` login role."""
    with psycopg.connect(demo_db.harness_dsn, autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="session")
def today(demo_db: DemoConnection) -> date:
    """The demo's anchor date (today in the demo zone when the session started)."""
    with psycopg.connect(demo_db.superuser_dsn) as conn:
        row = conn.execute(
            "SELECT valor FROM nexo.parametro WHERE clave = 'anchor_date'"
        ).fetchone()
    assert row is not None
    return date.fromisoformat(row[0])
