"""Schemathesis over the app's OpenAPI: no 5xx, only declared statuses and content types."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from api_support import MINTRAL_KEY, RuntimeBox, api_settings, bearer
from hypothesis import HealthCheck, settings

from miot_harness.api.app import create_app

# Collection needs the schema before any fixture exists, so the app gets its own data dir.
DATA_DIR = Path(tempfile.mkdtemp(prefix="miot-schemathesis-"))
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app(api_settings(DATA_DIR), runtime_factory=RuntimeBox().factory)
)


@pytest.fixture(scope="module", autouse=True)
def _remove_data_dir() -> Iterator[None]:
    yield
    shutil.rmtree(DATA_DIR, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_get_documented_answers(case) -> None:
    case.call_and_validate(headers=bearer(MINTRAL_KEY))
