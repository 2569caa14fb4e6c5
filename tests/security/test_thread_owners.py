"""A thread is its (tenant, user)'s on every surface that asks: the API and its stream, the MCP
`ask` tool and the CLI's `ask --thread-id`, all over one real harness and one run store."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from dataclasses import dataclass

import pytest
from security_support import MINTRAL_KEY, SecureApi, bearer

from mcp import Client
from miot_harness.mcp.server import build_mcp_server
from miot_harness.schemas import HarnessRunRecord

pytestmark = pytest.mark.security

QUESTION = "resumen del centro de control de hoy"
NO_SUCH_THREAD = {"detail": "no such thread"}
CLI_TIMEOUT_S = 240


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str


async def cli_ask(api: SecureApi, *args: str) -> Finished:
    """`miot-harness ask` in its own process, on the app's data directory and database."""
    settings = api.settings
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MIOT_HARNESS_", "ANTHROPIC_", "OPENAI_"))
    }
    env |= {
        "MIOT_HARNESS_DATA_DIR": str(settings.data_dir),
        "MIOT_HARNESS_NEXO_DB_SCRIPTS_ROOT": str(settings.nexo_db_scripts_root),
        "MIOT_HARNESS_NEXO_DB_ALIAS": str(settings.nexo_db_alias),
        "MIOT_HARNESS_MODEL": "offline",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "miot_harness",
        "ask",
        QUESTION,
        *args,
        env=env,
        cwd=settings.data_dir,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), CLI_TIMEOUT_S)
    assert process.returncode is not None
    return Finished(process.returncode, out.decode(), err.decode())


async def test_a_thread_is_its_owners_on_the_api_the_mcp_server_and_the_cli(
    secure_api: SecureApi,
) -> None:
    api_thread, cli_thread = f"api-{uuid.uuid4().hex}", f"cli-{uuid.uuid4().hex}"
    anas = await secure_api.ask(MINTRAL_KEY, QUESTION, thread_id=api_thread)
    runtime = secure_api.app.state.api.runtime
    async with Client(build_mcp_server(runtime, secure_api.settings)) as mcp:
        into_anas = await mcp.call_tool("ask", {"question": QUESTION, "thread_id": api_thread})
        mcps = await mcp.call_tool("ask", {"question": QUESTION})
    mcp_thread = mcps.structured_content["thread_id"]
    cli_into_anas = await cli_ask(secure_api, "--thread-id", api_thread)
    cli_into_mcps = await cli_ask(secure_api, "--json", "--thread-id", mcp_thread)
    clis = await cli_ask(secure_api, "--json", "--thread-id", cli_thread)

    assert into_anas.is_error and into_anas.structured_content is None
    assert into_anas.content[0].text == "ask: no such thread"
    for refused in (cli_into_anas, cli_into_mcps):
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.strip().splitlines()[-1] == "--thread-id: no such thread"
        assert "Traceback" not in refused.stderr and refused.stdout == ""
    assert mcps.structured_content["status"] == "completed"
    assert clis.returncode == 0, clis.stderr
    cli_run = HarnessRunRecord.model_validate_json(clis.stdout)
    assert (cli_run.thread_id, cli_run.user_id, cli_run.status.value) == (
        cli_thread,
        "local",
        "completed",
    )

    client = secure_api.client
    for thread, run_id in ((mcp_thread, mcps.structured_content["run_id"]), (cli_thread, None)):
        body = {"message": QUESTION, "thread_id": thread}
        for path in ("/runs", "/runs/stream"):
            posted = await client.post(path, json=body, headers=bearer(MINTRAL_KEY))
            assert (posted.status_code, posted.json()) == (404, NO_SUCH_THREAD), path
        read = await client.get(f"/threads/{thread}/runs", headers=bearer(MINTRAL_KEY))
        assert (read.status_code, read.json()) == (404, NO_SUCH_THREAD)
        if run_id is not None:
            run = await client.get(f"/runs/{run_id}", headers=bearer(MINTRAL_KEY))
            assert (run.status_code, run.json()) == (404, {"detail": "no such run"})

    stored = runtime.store
    owners = {
        thread: [(r.user_id, r.run_id) for r in await stored.list_thread(thread, "mintral")]
        for thread in (api_thread, mcp_thread, cli_thread)
    }
    assert owners == {
        api_thread: [("ana", anas["run_id"])],
        mcp_thread: [("mcp", mcps.structured_content["run_id"])],
        cli_thread: [("local", cli_run.run_id)],
    }, "nothing was stored in another user's thread"
