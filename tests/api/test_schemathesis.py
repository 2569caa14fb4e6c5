"""Schemathesis over the app's OpenAPI: no 5xx, only declared statuses, content types and
shapes — on the scripted runtime with every schemathesis phase, and on the real runtime over
the demo database with bounded positive and negative cases."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from api_support import API_KEYS, MINTRAL_KEY, RuntimeBox, api_settings, bearer
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode
from schemathesis.python.asgi import shutdown_lifespans

from harness_support import demo_settings
from miot_harness.api.app import create_app
from miot_harness.demo.cluster import DemoConnection

AUTH = bearer(MINTRAL_KEY)
# Collection needs the schema before any fixture exists, so the app gets its own data dir.
DATA_DIR = Path(tempfile.mkdtemp(prefix="miot-schemathesis-"))
schema = schemathesis.openapi.from_asgi(
    "/openapi.json",
    create_app(api_settings(DATA_DIR), runtime_factory=RuntimeBox().factory),
    headers=AUTH,
)


@pytest.fixture(scope="module", autouse=True)
def _stop_apps() -> Iterator[None]:
    yield
    # Schemathesis keeps each app's lifespan open until interpreter exit; end them here.
    shutdown_lifespans()
    shutil.rmtree(DATA_DIR, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_get_documented_answers(case) -> None:
    case.call_and_validate(headers=AUTH)


def test_the_real_app_answers_generated_requests_as_documented(
    demo_db: DemoConnection, tmp_path: Path
) -> None:
    app = create_app(demo_settings(demo_db, tmp_path, API_KEYS))
    real = schemathesis.openapi.from_asgi("/openapi.json", app, headers=AUTH)
    checked = []
    for result in real.get_all_operations():
        operation = result.ok()
        has_inputs = bool(operation.body or operation.path_parameters or operation.query)
        # Negative cases need an input to break; the key headers are always sent valid.
        modes = list(GenerationMode) if has_inputs else [GenerationMode.POSITIVE]
        for mode in modes:

            @given(operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=8,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case) -> None:
                case.call_and_validate(headers=AUTH)

            check()
            checked.append((operation.method, operation.path, mode))
    # Every operation (the page's /ui/render and /ui/config included), those with inputs twice.
    assert len(checked) == 10 + 6
    assert {"/ui/render", "/ui/config"} <= {path for _, path, _ in checked}
