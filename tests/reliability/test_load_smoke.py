"""A few seconds of `benchmarks/bench_load.py` (the 2-minute soak) through real uvicorn:
0 errors, both tenants answered as they should be, no cross-talk between runs' events, and
no answer number missing from its own run's evidence."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import ServerProcess, server_process
from bench_load import EXPECTED_STATUS, LOAD_KEYS, QUESTIONS, drive

from miot_harness.demo.cluster import DemoConnection
from miot_harness.settings import load_settings

pytestmark = pytest.mark.reliability

CLIENTS = 8
SECONDS = 4.0


@pytest.fixture
def load_server(tmp_path: Path, demo_db: DemoConnection) -> Iterator[ServerProcess]:
    env = {
        "MIOT_HARNESS_DATA_DIR": str(tmp_path / "data"),
        "MIOT_HARNESS_API_KEYS": json.dumps(LOAD_KEYS),
        "MIOT_HARNESS_NEXO_DB_SCRIPTS_ROOT": str(demo_db.db_scripts_root),
        "MIOT_HARNESS_NEXO_DB_ALIAS": demo_db.alias,
        "MIOT_HARNESS_MODEL": "offline",
        "MIOT_HARNESS_MAX_CONCURRENT_RUNS": str(CLIENTS),
    }
    with server_process("miot_harness.api.app:create_app", env, tmp_path / "load.log") as server:
        yield server


async def test_a_short_load_has_no_error_no_cross_talk_and_no_invented_number(
    tmp_path: Path, load_server: ServerProcess
) -> None:
    phase = await drive(load_server.url, CLIENTS, SECONDS, load_settings(data_dir=tmp_path))

    assert phase.errors == []
    assert phase.violations == []
    assert phase.tenants().keys() == EXPECTED_STATUS.keys()
    asked = {asked.record.run_id for asked in phase.runs if asked.record is not None}
    assert len(asked) == len(phase.runs) >= CLIENTS * len(QUESTIONS), "every run is its own"
