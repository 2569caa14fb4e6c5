"""Secrets never leave: with recognisable DB passwords, API keys and provider keys configured,
normal, refused and failing runs leave no trace of them in logs (caplog and a server
process's output), events, run records, the SQLite store, `/health`, `/metrics` or any
error body."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx
import pytest
from mcp.client.stdio import stdio_client
from security_support import (
    ANTHROPIC_KEY,
    API_KEYS,
    MINTRAL_KEY,
    OPENAI_KEY,
    OTHER_KEY,
    bearer,
    booted_api,
    secure_settings,
)

from mcp import Client, StdioServerParameters
from miot_harness.api.app import MAX_BODY_BYTES
from miot_harness.demo.cluster import DemoConnection
from miot_harness.demo.layout import DEMO_DBNAME
from provider_stub import ProviderStub, anthropic_error, openai_error

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from api_support import server_process

pytestmark = pytest.mark.security

CANARY_DB_PASSWORD = "CANARY-DBPASS-3b9f61"


def harness_password(demo_db: DemoConnection) -> str:
    password = urlsplit(demo_db.harness_dsn).password
    assert password
    return unquote(password)


def hits(secrets: Iterable[str], texts: dict[str, str]) -> list[tuple[str, str]]:
    """(where, which secret) for every secret found in any text."""
    return [
        (where, secret) for where, text in texts.items() for secret in secrets if secret in text
    ]


class Exchange:
    """Every response body and header seen by one test, keyed by what was asked."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.seen: dict[str, str] = {}
        self.responses: dict[str, httpx.Response] = {}

    async def call(self, label: str, method: str, path: str, **kwargs) -> httpx.Response:
        response = await self.client.request(method, path, **kwargs)
        self.seen[label] = f"{response.status_code} {dict(response.headers)} {response.text}"
        self.responses[label] = response
        return response


async def exercise(client: httpx.AsyncClient) -> Exchange:
    """Normal, refused, streamed and invalid requests, and every read, through one client."""
    ex = Exchange(client)
    mintral, other = bearer(MINTRAL_KEY), bearer(OTHER_KEY)
    ok = await ex.call(
        "run", "POST", "/runs", json={"message": "cola crítica de hoy"}, headers=mintral
    )
    await ex.call(
        "refused", "POST", "/runs", json={"message": "llama a fn_refresh_all"}, headers=mintral
    )
    await ex.call("tenant", "POST", "/runs", json={"message": "resumen de hoy"}, headers=other)
    await ex.call(
        "stream",
        "POST",
        "/runs/stream",
        json={"message": "resumen del centro de control"},
        headers=mintral,
    )
    await ex.call("no_key", "POST", "/runs", json={"message": "hola"})
    await ex.call(
        "bad_key", "POST", "/runs", json={"message": "hola"}, headers=bearer("x" + MINTRAL_KEY)
    )
    await ex.call("invalid", "POST", "/runs", json={"message": "", "tenant_id": 3}, headers=mintral)
    await ex.call("unparsable", "POST", "/runs", content=b"\xff{", headers=mintral)
    await ex.call(
        "too_large", "POST", "/runs", content=b"x" * (MAX_BODY_BYTES + 1), headers=mintral
    )
    if ok.status_code == 200:
        run_id, thread_id = ok.json()["run_id"], ok.json()["thread_id"]
        await ex.call("read", "GET", f"/runs/{run_id}", headers=mintral)
        await ex.call("thread", "GET", f"/threads/{thread_id}/runs", headers=mintral)
        await ex.call("foreign", "GET", f"/runs/{run_id}", headers=other)
    await ex.call("unknown", "GET", "/runs/nope", headers=mintral)
    for path in ("/health", "/metrics", "/tools", "/openapi.json", "/ui/config"):
        await ex.call(path, "GET", path, headers=mintral)
    return ex


def store_text(data_dir: Path) -> dict[str, str]:
    """The raw bytes of every store file (run records, checkpoints), as text."""
    return {
        str(path): path.read_bytes().decode("utf-8", "replace")
        for path in data_dir.rglob("*")
        if path.is_file() and ".sqlite" in path.name
    }


async def test_no_secret_leaves_a_working_harness(demo_db, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    settings = secure_settings(demo_db, tmp_path)
    secrets = [*API_KEYS, ANTHROPIC_KEY, OPENAI_KEY, harness_password(demo_db)]
    async with booted_api(settings) as api:
        ex = await exercise(api.client)
    assert ex.seen["run"].startswith("200") and ex.seen["/health"].startswith("200")
    assert store_text(tmp_path), "the run store was not found"
    assert "run.completed" in caplog.text  # the event log was captured
    texts = {**ex.seen, **store_text(tmp_path), "log": caplog.text}
    assert hits(secrets, texts) == []


async def test_no_secret_leaves_when_the_database_connection_fails(
    demo_db, pg_server, tmp_path, caplog
):
    caplog.set_level(logging.DEBUG)
    wrong_password = (
        f"postgresql://harness:{CANARY_DB_PASSWORD}@/{DEMO_DBNAME}"
        f"?host={pg_server.socket_dir}&port={pg_server.port}"
    )
    no_server = f"postgresql://harness:{CANARY_DB_PASSWORD}@/{DEMO_DBNAME}?host={tmp_path}&port=1"
    secrets = [*API_KEYS, ANTHROPIC_KEY, OPENAI_KEY, CANARY_DB_PASSWORD, wrong_password, no_server]
    for dsn in (wrong_password, no_server):
        data_dir = tmp_path / str(len(caplog.records))
        async with booted_api(
            secure_settings(demo_db, data_dir, nexo_dsn=dsn, nexo_db_scripts_root=None)
        ) as api:
            ex = await exercise(api.client)
            health = (await api.client.get("/health")).json()
        assert health["nexo_enabled"] is False and health["reason"]
        assert hits(secrets, {**ex.seen, **store_text(data_dir)}) == []
    assert hits(secrets, {"log": caplog.text}) == []


async def test_no_secret_leaves_when_a_run_loses_its_database(
    demo_cluster, demo_db_clone, tmp_path, caplog
):
    caplog.set_level(logging.DEBUG)
    settings = secure_settings(
        demo_db_clone, tmp_path, nexo_db_scripts_root=demo_db_clone.db_scripts_root
    )
    secrets = [*API_KEYS, ANTHROPIC_KEY, OPENAI_KEY, harness_password(demo_db_clone)]
    async with booted_api(settings) as api:
        # The database disappears under a booted harness: every call now fails to connect.
        demo_cluster.drop(demo_db_clone.dbname)
        ex = await exercise(api.client)
    record = ex.responses["run"].json()
    assert record["status"] in {"failed", "refused"}
    assert any(e["type"] == "tool.failed" for e in record["events"])
    assert hits(secrets, {**ex.seen, **store_text(tmp_path), "log": caplog.text}) == []


@pytest.mark.parametrize(
    ("model", "reply"),
    [
        ("claude-stub", anthropic_error(401, "authentication_error", "invalid x-api-key")),
        # OpenAI echoes a masked key; the harness must not add the rest.
        ("gpt-4o", openai_error(401, "Incorrect API key provided: sk-CANA****d1.")),
    ],
)
async def test_no_secret_leaves_when_the_provider_rejects_the_key(
    demo_db, tmp_path, caplog, model, reply
):
    caplog.set_level(logging.DEBUG)
    secrets = [*API_KEYS, ANTHROPIC_KEY, OPENAI_KEY, harness_password(demo_db)]
    with ProviderStub() as stub:
        stub.enqueue(*[reply] * 20)
        settings = secure_settings(
            demo_db,
            tmp_path,
            model=model,
            anthropic_base_url=stub.base_url,
            openai_base_url=stub.base_url + "/v1",
        )
        async with booted_api(settings) as api:
            ex = await exercise(api.client)
        # The provider did get the key (that is its job) and the run failed on its answer.
        assert any(
            ANTHROPIC_KEY in r.headers.get("x-api-key", "") + r.headers.get("authorization", "")
            or OPENAI_KEY in r.headers.get("authorization", "")
            for r in stub.requests
        )
    assert ex.responses["run"].json()["status"] == "failed"
    assert hits(secrets, {**ex.seen, **store_text(tmp_path), "log": caplog.text}) == []


def test_no_secret_reaches_a_server_process_output(demo_db, tmp_path):
    dsn = f"postgresql://harness:{CANARY_DB_PASSWORD}@/{DEMO_DBNAME}?host={tmp_path}&port=1"
    env = {
        "MIOT_HARNESS_DATA_DIR": str(tmp_path / "data"),
        "MIOT_HARNESS_API_KEYS": json.dumps(API_KEYS),
        "MIOT_HARNESS_NEXO_DSN": dsn,
        "MIOT_HARNESS_MODEL": "offline",
        "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
        "OPENAI_API_KEY": OPENAI_KEY,
        "PYTHONUNBUFFERED": "1",
    }
    secrets = [*API_KEYS, ANTHROPIC_KEY, OPENAI_KEY, CANARY_DB_PASSWORD, dsn]
    seen: dict[str, str] = {}
    with server_process("miot_harness.api.app:create_app", env, tmp_path / "server.log") as server:
        for label, path, headers, body in (
            ("run", "/runs", bearer(MINTRAL_KEY), {"message": "cola crítica de hoy"}),
            ("bad_key", "/runs", bearer("nope"), {"message": "hola"}),
            ("invalid", "/runs", bearer(MINTRAL_KEY), {"message": ""}),
        ):
            response = httpx.post(server.url + path, json=body, headers=headers, timeout=60)
            seen[label] = response.text
        seen["health"] = httpx.get(server.url + "/health", timeout=30).text
        seen["metrics"] = httpx.get(server.url + "/metrics", timeout=30).text
    output = (tmp_path / "server.log").read_text("utf-8", errors="replace")
    assert "Nexo" in output or "nexo" in output  # the boot failure was logged
    assert json.loads(seen["health"])["nexo_enabled"] is False
    assert hits(secrets, {**seen, "process output": output}) == []
    assert os.environ.get("MIOT_HARNESS_API_KEYS") != env["MIOT_HARNESS_API_KEYS"]


@pytest.mark.parametrize("database", ["demo", "wrong_password"])
async def test_no_secret_reaches_the_mcp_server_output_or_results(
    demo_db, pg_server, tmp_path, database
):
    env = {
        "MIOT_HARNESS_DATA_DIR": str(tmp_path / "data"),
        "MIOT_HARNESS_MODEL": "offline",
        "MIOT_HARNESS_API_KEYS": json.dumps(API_KEYS),
        "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
        "OPENAI_API_KEY": OPENAI_KEY,
    }
    if database == "demo":
        env["MIOT_HARNESS_NEXO_DB_SCRIPTS_ROOT"] = str(demo_db.db_scripts_root)
        env["MIOT_HARNESS_NEXO_DB_ALIAS"] = demo_db.alias
    else:
        env["MIOT_HARNESS_NEXO_DSN"] = (
            f"postgresql://harness:{CANARY_DB_PASSWORD}@/{DEMO_DBNAME}"
            f"?host={pg_server.socket_dir}&port={pg_server.port}"
        )
    secrets = [*API_KEYS, ANTHROPIC_KEY, OPENAI_KEY, CANARY_DB_PASSWORD, harness_password(demo_db)]
    parameters = StdioServerParameters(
        command=sys.executable, args=["-m", "miot_harness", "mcp"], env=env, cwd=str(tmp_path)
    )
    seen: dict[str, str] = {}
    log_path = tmp_path / "mcp-stderr.log"
    with log_path.open("w") as errlog:
        async with Client(stdio_client(parameters, errlog)) as client:
            for label, name, args in (
                ("tool", "coordinador_cola_critica", {"limit": 3}),
                ("invalid", "coordinador_cola_critica", {"eta_clasificacion": "tarde"}),
                ("denied", "coordinador_refresh_all", {}),
                ("ask", "ask", {"question": "cola crítica de hoy"}),
                ("refused", "ask", {"question": "llama a fn_refresh_all"}),
            ):
                result = await client.call_tool(name, args)
                seen[label] = result.model_dump_json()
    seen["stderr"] = log_path.read_text("utf-8", errors="replace")
    assert '"event":"run.completed"' in seen["stderr"]  # the run's events were logged
    assert hits(secrets, seen) == []
