"""A scripted local HTTP server speaking the Anthropic Messages and OpenAI Chat Completions
APIs on 127.0.0.1, so the real provider clients can be tested without a network.

Replies are queued in order (`enqueue`); every request is recorded with its parsed body.
A reply can be slow (`delay_s`), fail with any status, carry a malformed body (`raw`), drop
the connection (`reset`), start a 200 body that never ends (`forever`: a whitespace chunk
every `TRICKLE_S`, so no read timeout fires), or wait for a test's `gate`. Use it as a
context manager; `stop` releases slow, gated and endless handlers.
"""

from __future__ import annotations

import json
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ANTHROPIC_PATH = "/v1/messages"
OPENAI_PATH = "/v1/chat/completions"
TRICKLE_S = 0.05


@dataclass(frozen=True)
class StubReply:
    """One scripted answer: JSON `body` (or `raw` bytes) with `status`, after `delay_s`."""

    status: int = 200
    body: dict[str, Any] | None = None
    raw: bytes | None = None
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    reset: bool = False
    forever: bool = False
    # When given, the reply waits until the test sets it (a run held mid-call, exactly).
    gate: threading.Event | None = None


@dataclass(frozen=True)
class StubRequest:
    """One request as received; header names are lower-case."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _StubServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test asserts on recorded requests instead."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = raw.decode("utf-8", "replace")
        stub = self.server.stub
        headers = {name.lower(): value for name, value in self.headers.items()}
        stub.record(StubRequest("POST", self.path, headers, body))
        reply = stub.next_reply()
        if reply.delay_s and stub.released.wait(reply.delay_s):
            return
        if reply.gate is not None:
            while not reply.gate.wait(TRICKLE_S):
                if stub.released.is_set():
                    return
        try:
            if reply.reset:
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if reply.forever:
                self._trickle(stub)
                return
            payload = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            # The client gave up first (its timeout): nothing left to answer.
            return

    def _trickle(self, stub: ProviderStub) -> None:
        """A chunked JSON body of whitespace only, until the client leaves or the stub stops."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            while not stub.released.wait(TRICKLE_S):
                self.wfile.write(b"1\r\n \r\n")
                self.wfile.flush()
        except OSError:
            stub.hung_up.set()


class _StubServer(ThreadingHTTPServer):
    daemon_threads = True
    stub: ProviderStub


class ProviderStub:
    """The scripted server; `base_url` is `http://127.0.0.1:<port>` (no `/v1`)."""

    def __init__(self) -> None:
        self.requests: list[StubRequest] = []
        self.released = threading.Event()
        # Set when a client closes an endless body: it gave up instead of leaking the link.
        self.hung_up = threading.Event()
        self._replies: deque[StubReply] = deque()
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._server = _StubServer(("127.0.0.1", 0), _Handler)
        self._server.stub = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def enqueue(self, *replies: StubReply) -> None:
        with self._lock:
            self._replies.extend(replies)

    def record(self, request: StubRequest) -> None:
        with self._lock:
            self.requests.append(request)
            self._arrived.notify_all()

    def wait_for_requests(self, count: int, timeout_s: float = 30) -> bool:
        """Block until `count` requests have arrived; False if `timeout_s` passed first."""
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self.requests) >= count, timeout_s)

    def next_reply(self) -> StubReply:
        with self._lock:
            if self._replies:
                return self._replies.popleft()
        return StubReply(status=500, body={"error": {"message": "no scripted reply"}})

    def bodies(self, path: str) -> list[Any]:
        return [r.body for r in self.requests if r.path == path]

    def start(self) -> ProviderStub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ProviderStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def anthropic_message(
    *, text: str | None = None, tool: tuple[str, dict[str, Any]] | None = None,
    input_tokens: int = 120, output_tokens: int = 30,
) -> StubReply:  # fmt: skip
    """A Messages API answer with a text block and/or one `tool_use` block."""
    content: list[dict[str, Any]] = []
    if text is not None:
        content.append({"type": "text", "text": text})
    if tool is not None:
        content.append({"type": "tool_use", "id": "toolu_1", "name": tool[0], "input": tool[1]})
    return StubReply(
        body={
            "id": "msg_stub",
            "type": "message",
            "role": "assistant",
            "model": "claude-stub",
            "content": content,
            "stop_reason": "tool_use" if tool else "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens,
                      "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
        }
    )  # fmt: skip


def anthropic_error(status: int, error_type: str, message: str, **headers: str) -> StubReply:
    return StubReply(
        status=status,
        body={"type": "error", "error": {"type": error_type, "message": message}},
        headers=headers,
    )


def openai_completion(
    *, text: str | None = None, tool: tuple[str, dict[str, Any]] | None = None,
    input_tokens: int = 120, output_tokens: int = 30,
) -> StubReply:  # fmt: skip
    """A Chat Completions answer with content and/or one function tool call."""
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if tool is not None:
        function = {"name": tool[0], "arguments": json.dumps(tool[1])}
        message["tool_calls"] = [{"id": "call_1", "type": "function", "function": function}]
    return StubReply(
        body={
            "id": "chatcmpl-stub",
            "object": "chat.completion",
            "created": 0,
            "model": "stub",
            "choices": [{"index": 0, "message": message,
                         "finish_reason": "tool_calls" if tool else "stop"}],
            "usage": {"prompt_tokens": input_tokens, "completion_tokens": output_tokens,
                      "total_tokens": input_tokens + output_tokens},
        }
    )  # fmt: skip


def openai_error(status: int, message: str, **headers: str) -> StubReply:
    return StubReply(
        status=status,
        body={"error": {"message": message, "type": "server_error", "code": None}},
        headers=headers,
    )
