"""Schemathesis in stateful mode over the API's OpenAPI links (a created run → its record and
its thread), with the two tenants' keys taking turns: every answer is documented, and a
record is only ever returned to its own tenant."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.python.asgi import shutdown_lifespans
from security_support import API_KEYS, MINTRAL_KEY, bearer, secure_settings

from miot_harness.api.app import create_app
from miot_harness.demo.cluster import DemoConnection

pytestmark = pytest.mark.security

KEYS = sorted(API_KEYS)


@pytest.fixture
def stop_lifespans() -> Iterator[None]:
    yield
    # Schemathesis keeps the app's lifespan open until interpreter exit; end it here.
    shutdown_lifespans()


def test_the_run_links_are_declared(demo_db: DemoConnection, tmp_path: Path) -> None:
    document = create_app(secure_settings(demo_db, tmp_path)).openapi()
    links = document["paths"]["/runs"]["post"]["responses"]["200"]["links"]
    operations = {
        operation["operationId"]: path
        for path, methods in document["paths"].items()
        for operation in methods.values()
    }
    assert operations[links["ReadRun"]["operationId"]] == "/runs/{run_id}"
    assert operations[links["ReadThread"]["operationId"]] == "/threads/{thread_id}/runs"


def test_stateful_sequences_over_the_links_stay_documented_and_tenant_scoped(
    demo_db: DemoConnection, tmp_path: Path, stop_lifespans: None
) -> None:
    app = create_app(secure_settings(demo_db, tmp_path))
    # GET /threads needs no input, so schemathesis would start every sequence there and never
    # from POST /runs (whose thread, tenant and user no operation returns); the ownership
    # tests in tests/api/test_threads.py cover the listing.
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", app, headers=bearer(MINTRAL_KEY)
    ).exclude(operation_id="list_threads")
    followed: list[tuple[str, str, int]] = []

    class TwoTenants(schema.as_state_machine()):  # type: ignore[misc]
        """Each call goes out with the next key; a 200 must belong to that key's tenant."""

        def setup(self) -> None:
            self.turn = 0

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            self.turn += 1
            self.key = KEYS[self.turn % len(KEYS)]
            return {"headers": bearer(self.key)}

        def after_call(self, response: Any, case: Any) -> None:
            followed.append((case.method, case.path, response.status_code))
            if response.status_code != 200 or case.path in ("/runs/stream", "/metrics"):
                return
            body = response.json()
            records = body.get("runs", [body]) if isinstance(body, dict) else []
            tenant = API_KEYS[self.key]["tenant_id"]
            for record in records:
                if "tenant_id" in record:
                    assert record["tenant_id"] == tenant, (case.path, record["run_id"])

    TwoTenants.run(
        settings=settings(
            max_examples=12,
            stateful_step_count=4,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    reads = {(method, path, status) for method, path, status in followed if method == "GET"}
    # The links were followed: records were read back, and refused to the other tenant.
    assert ("GET", "/runs/{run_id}", 200) in reads
    assert ("GET", "/runs/{run_id}", 404) in reads
