"""Reliability fixtures: a pausable private clone of the demo database."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_support import make_pausable

from miot_harness.demo.cluster import DemoConnection

# Shared, not copied: the API test support (uvicorn servers, SSE parsing, keys) and the
# load driver of benchmarks/bench_load.py, which the smoke test runs for a few seconds.
ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests" / "api"), str(ROOT / "benchmarks")]


@pytest.fixture
def pausable_db(demo_db_clone: DemoConnection) -> Iterator[DemoConnection]:
    """A private demo clone whose Nexo calls sleep as long as `set_pause` says."""
    make_pausable(demo_db_clone)
    yield demo_db_clone
