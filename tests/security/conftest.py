"""Security fixtures: one real harness app (offline model, demo database, two tenants' keys)
shared by the whole directory."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from security_support import SecureApi, secure_settings

from miot_harness.api.app import create_app
from miot_harness.demo.cluster import DemoConnection


@pytest.fixture(scope="session")
async def secure_api(demo_db: DemoConnection, tmp_path_factory) -> AsyncIterator[SecureApi]:
    """The real harness over the session's demo database, shared by the security tests."""
    settings = secure_settings(demo_db, tmp_path_factory.mktemp("security-data"))
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1", timeout=120
        ) as client:
            yield SecureApi(app, client, settings)
