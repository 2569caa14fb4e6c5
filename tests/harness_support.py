"""What the faces' tests share: run records, a clarification, the demo database's settings and
runtime, and a question put to a runtime."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from miot_harness.demo.cluster import DemoConnection
from miot_harness.runtime import HarnessRuntime, open_runtime
from miot_harness.schemas import HarnessRoute, HarnessRunRecord, UserRequest
from miot_harness.settings import HarnessSettings, load_settings

# What a run that cannot match "Transportes Pepito" to a carrier answers, and asks.
QUESTION_BACK = "No encontré «Transportes Pepito» entre los transportistas. ¿Te refieres a…?"
CLARIFICATION = {
    "reason": "unresolved_value",
    "unresolved": [
        {"filter": "transportista", "text": "Transportes Pepito", "suggestions": ["TransRápido"]}
    ],
    "options": [
        {"label": "TransRápido", "message": "¿TransRápido tiene servicios atrasados?"},
        {"label": "Todos los transportistas", "message": "servicios atrasados por transportista"},
    ],
}


def run_record(**fields: Any) -> HarnessRunRecord:
    """A Nexo-route run of mintral's user ana (run r1, thread t1) with `fields` replaced."""
    defaults: dict[str, Any] = {
        "run_id": "r1",
        "thread_id": "t1",
        "tenant_id": "mintral",
        "user_id": "ana",
        "route": HarnessRoute.NEXO_QUERY,
    }
    return HarnessRunRecord(**{**defaults, **fields})


def demo_settings(
    demo_db: DemoConnection, data_dir: Path, api_keys: dict[str, Any], **overrides: Any
) -> HarnessSettings:
    """The offline model over the demo database with these API keys and a local store."""
    return load_settings(
        data_dir=data_dir,
        api_keys=json.dumps(api_keys),
        model="offline",
        nexo_dsn=None,
        store_dsn=None,
        nexo_db_scripts_root=demo_db.db_scripts_root,
        nexo_db_alias=demo_db.alias,
        **overrides,
    )


@asynccontextmanager
async def demo_runtime(
    demo_db: DemoConnection, data_dir: Path, **overrides: Any
) -> AsyncIterator[HarnessRuntime]:
    """The runtime booted over the demo database as its harness role, until the block ends."""
    settings = load_settings(data_dir=data_dir, nexo_dsn=demo_db.harness_dsn, **overrides)
    async with open_runtime(settings) as booted:
        yield booted


async def ask(
    runtime: HarnessRuntime,
    message: str,
    tenant: str = "mintral",
    user: str = "ana",
    **request: Any,
) -> HarnessRunRecord:
    """Put `message` (and `request`'s other fields) to the runtime's supervisor as `user`."""
    return await runtime.supervisor.run(
        UserRequest(message=message, **request), tenant_id=tenant, user_id=user
    )
