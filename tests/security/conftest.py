"""Security fixtures: one real harness app (offline model, demo database, two tenants' keys)
shared by the whole directory."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from security_support import SecureApi, booted_api, secure_settings

from miot_harness.demo.cluster import DemoConnection


@pytest.fixture(scope="session")
async def secure_api(demo_db: DemoConnection, tmp_path_factory) -> AsyncIterator[SecureApi]:
    """The real harness over the session's demo database, shared by the security tests."""
    settings = secure_settings(demo_db, tmp_path_factory.mktemp("security-data"))
    async with booted_api(settings) as api:
        yield api
