"""`--mode real` end to end: every seat on an OpenAI-compatible server (a loopback stub)."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from typer.testing import CliRunner

from miot_harness.evals.catalogue import load_catalogue
from miot_harness.evals.fake_models import Script, ScriptedSeatModel
from miot_harness.evals.golden import load_golden
from miot_harness.evals.run_golden import app
from miot_harness.evals.scorers import BOOLEAN_METRICS

GOLDEN = Path(__file__).parents[2] / "evals" / "golden" / "nexo" / "examples.yaml"
EXAMPLES = load_golden(GOLDEN, load_catalogue(None))
ONLY = (
    "cc-resumen-hoy",
    "tenant-logisur-resumen",
    "hilo-cola-rm-luego-valparaiso",
    "stale-resumen-3h",
    "ranking-peor-transportista-30d",
)
ROLES = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}


def scripted_reply(messages: list[BaseMessage]) -> str:
    """The scripted seat's answer for the golden example whose question was asked."""
    asked = next(str(m.content) for m in reversed(messages) if isinstance(m, HumanMessage))
    script = Script()
    script.example = next(e for e in EXAMPLES if any(t.question == asked for t in e.all_turns()))
    model = ScriptedSeatModel(script=script, timezone="America/Santiago")
    return str(model.invoke(messages).content)


class ChatCompletions(BaseHTTPRequestHandler):
    """`POST /v1/chat/completions` answered by the scripted seats; records each request."""

    requests: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append(body)
        messages = [ROLES[m["role"]](content=m["content"]) for m in body["messages"]]
        content = scripted_reply(messages)
        reply = {
            "id": f"stub-{len(self.requests)}",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110},
        }
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def chat_stub() -> Iterator[str]:
    ChatCompletions.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), ChatCompletions)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.timeout(240)
def test_real_mode_through_an_openai_compatible_server(
    chat_stub, demo_db_clone, tmp_path, monkeypatch
):
    for name in ("OPENAI_API_KEY", "MIOT_HARNESS_OPENAI_API_KEY", "MIOT_HARNESS_STORE_DSN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MIOT_HARNESS_MODEL", "openai:stub-model")
    monkeypatch.setenv("MIOT_HARNESS_OPENAI_BASE_URL", chat_stub)
    monkeypatch.setenv("MIOT_HARNESS_NEXO_DSN", demo_db_clone.harness_dsn)
    monkeypatch.setenv("MIOT_HARNESS_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(
        app,
        ["--mode", "real", "--only", ",".join(ONLY), "--results-dir", str(tmp_path)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    [path] = tmp_path.glob("*.json")
    real = json.loads(path.read_text())["modes"]["real"]
    assert set(real["models"].values()) == {"openai:stub-model"}
    # A configured database gives no owner role, so snapshots cannot be aged: skipped, said so.
    assert real["skipped"] == ["stale-resumen-3h"] and "skipping 1 stale-data" in result.output
    assert real["aggregates"]["examples"] == len(ONLY) - 1
    assert real["settings"]["nexo_dsn"] == "set"
    assert demo_db_clone.harness_dsn.split("@")[0] not in path.read_text()
    metrics = real["aggregates"]["metrics"]
    rates = {name: m["rate"] for name, m in metrics.items() if m["rate"] is not None}
    # These examples never ask back; the ranking one expects its answer to name the carrier.
    not_applicable = {"clarified_when_unresolved"}
    assert rates == dict.fromkeys(set(BOOLEAN_METRICS) - not_applicable, 1.0)
    assert ChatCompletions.requests and {r["model"] for r in ChatCompletions.requests} == {
        "stub-model"
    }
    tenant = next(e for e in real["examples"] if e["id"] == "tenant-logisur-resumen")
    assert tenant["usage"]["model_calls"] == 0
