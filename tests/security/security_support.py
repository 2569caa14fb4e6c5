"""Security test support: canary secrets, settings of the real harness, the shared app type,
and a digest of everything the demo database holds."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from fastapi import FastAPI

from miot_harness.api.app import create_app
from miot_harness.demo.cluster import DemoConnection
from miot_harness.settings import HarnessSettings, load_settings

# Recognisable values: a secret scan looks for exactly these strings.
MINTRAL_KEY = "CANARY-APIKEY-MINTRAL-5d1f9c"
OTHER_KEY = "CANARY-APIKEY-ACME-a83e07"
ANTHROPIC_KEY = "sk-ant-CANARY-ANTHROPIC-0c6b2e"
OPENAI_KEY = "sk-CANARY-OPENAI-7e49d1"
API_KEYS = {
    MINTRAL_KEY: {"tenant_id": "mintral", "user_id": "ana"},
    OTHER_KEY: {"tenant_id": "acme", "user_id": "bob"},
}
# Every table a write could touch; the digest proves none changed.
DIGESTED_TABLES = (
    "snapshot_refresh", "snap_servicio", "snap_pod", "servicio", "proc_inst", "pod", "evento",
    "parametro", "region", "comuna", "centro", "cliente", "transportista",
)  # fmt: skip


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def secure_settings(
    demo_db: DemoConnection, data_dir: Path, **overrides: object
) -> HarnessSettings:
    """The harness on the demo database, offline model, canary API and provider keys."""
    values: dict[str, object] = {
        "data_dir": data_dir,
        "model": "offline",
        "api_keys": json.dumps(API_KEYS),
        "anthropic_api_key": ANTHROPIC_KEY,
        "openai_api_key": OPENAI_KEY,
        "store_dsn": None,
        "nexo_dsn": None,
        "nexo_db_scripts_root": demo_db.db_scripts_root,
        "nexo_db_alias": demo_db.alias,
    }
    values.update(overrides)
    return load_settings(**values)


@dataclass(frozen=True)
class SecureApi:
    """A booted app and an in-process client to it."""

    app: FastAPI
    client: httpx.AsyncClient
    settings: HarnessSettings

    async def ask(self, key: str, message: str, **body: object) -> dict:
        response = await self.client.post(
            "/runs", json={"message": message, **body}, headers=bearer(key)
        )
        assert response.status_code == 200, response.text
        return response.json()


async def database_digest(dsn: str) -> dict[str, str]:
    """An md5 per table over every row, and the snapshot refresh stamps, read as the owner."""
    conn = await asyncpg.connect(dsn)
    try:
        digest = {
            table: await conn.fetchval(
                f"SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') "
                f"FROM nexo.{table} t"
            )
            for table in DIGESTED_TABLES
        }
        stamps = await conn.fetch("SELECT * FROM nexo.snapshot_refresh ORDER BY 1")
        digest["stamps"] = json.dumps([dict(row) for row in stamps], default=str)
        return digest
    finally:
        await conn.close()


def tool_events(record: dict) -> list[dict]:
    return [event for event in record["events"] if event["type"].startswith("tool.")]


def refusal_reason(record: dict) -> str | None:
    done = [event for event in record["events"] if event["type"] == "run.completed"]
    return done[-1]["payload"].get("refusal_reason") if done else None


@asynccontextmanager
async def booted_api(settings: HarnessSettings) -> AsyncIterator[SecureApi]:
    """The real app with its lifespan (the whole boot) run around the block, and a client."""
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1", timeout=120
        ) as client,
    ):
        yield SecureApi(app, client, settings)
