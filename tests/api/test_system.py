"""`/health`, `/tools`, `/metrics`, the lifespan's app state and the declared OpenAPI."""

from __future__ import annotations

from pathlib import Path

from api_support import MINTRAL_KEY, RuntimeBox, api_settings, asgi_client, bearer
from prometheus_client.parser import text_string_to_metric_families

from miot_harness.api.app import create_app

AUTH = bearer(MINTRAL_KEY)
QUESTION = {"message": "¿cuántos servicios hay hoy en la RM?"}


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_lifespan_publishes_nexo_state_and_closes_the_runtime(
    no_provider_environment, keyed_app, box
) -> None:
    async with asgi_client(keyed_app) as client:
        assert keyed_app.state.nexo_enabled is True
        assert keyed_app.state.nexo_registered == ["coordinador_conteo_servicios"]
        assert keyed_app.state.nexo_pool is box.get().pool
        health = (await client.get("/health")).json()
    assert health == {
        "status": "ok",
        "nexo_enabled": True,
        "reason": None,
        "tools": 1,
        "database_reachable": True,
        "models": {"filter_expert": "offline", "analyst": "offline", "synthesizer": "offline"},
        "warnings": [],
    }
    assert (box.opened, box.closed) == (1, 1)


async def test_health_says_why_nexo_is_disabled_and_asks_for_a_boot_retry(tmp_path: Path) -> None:
    box = RuntimeBox(nexo_enabled=False)
    app = create_app(api_settings(tmp_path), runtime_factory=box.factory)
    async with asgi_client(app) as client:
        health = await client.get("/health")
        notice = (await client.post("/runs", json=QUESTION, headers=AUTH)).json()
        assert app.state.nexo_enabled is False and app.state.nexo_pool is None
        assert box.get().retries == 2  # /health, then the run
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    assert health.json()["reason"] == "sin conexión a Coordinador"
    assert health.json()["database_reachable"] is False
    assert notice["status"] == "completed"
    assert "deshabilitado" in notice["answer"] and "sin conexión a Coordinador" in notice["answer"]


async def test_a_boot_retry_that_succeeds_reaches_app_state(tmp_path: Path) -> None:
    box = RuntimeBox(nexo_enabled=False, recovers=True)
    app = create_app(api_settings(tmp_path), runtime_factory=box.factory)
    async with asgi_client(app) as client:
        assert app.state.nexo_enabled is False
        record = (await client.post("/runs", json=QUESTION, headers=AUTH)).json()
        assert app.state.nexo_enabled is True
        assert app.state.nexo_registered == ["coordinador_conteo_servicios"]
        health = (await client.get("/health")).json()
    assert record["status"] == "completed" and record["answer"] == "Hay 42 servicios."
    assert health["status"] == "ok" and health["reason"] is None


async def test_tools_lists_the_catalogue_shape(keyed_app) -> None:
    async with asgi_client(keyed_app) as client:
        catalogue = (await client.get("/tools", headers=AUTH)).json()
    [entry] = catalogue["tools"]
    schema = entry.pop("input_schema")
    assert entry == {
        "name": "coordinador_conteo_servicios",
        "layer": None,
        "domain": None,
        "returns": None,
        "arguments": ["region", "limit"],
        "description": "L1: conteo",
    }
    assert list(schema["properties"]) == ["region", "limit"]


async def test_metrics_count_what_the_run_emitters_reported(keyed_app, box) -> None:
    async with asgi_client(keyed_app) as client:
        await client.post("/runs", json=QUESTION, headers=AUTH)
        await client.post("/runs", json=QUESTION, headers=AUTH)
        box.get().turns.fail_with = RuntimeError("graph exploded")
        await client.post("/runs", json=QUESTION, headers=AUTH)
        response = await client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    nexo = "nexo_query"
    assert samples[("miot_runs_total", (("route", nexo), ("status", "completed")))] == 2
    assert samples[("miot_runs_total", (("route", nexo), ("status", "failed")))] == 1
    assert samples[("miot_runs_in_flight", ())] == 0
    tool = (("outcome", "completed"), ("tool", "coordinador_conteo_servicios"))
    assert samples[("miot_tool_calls_total", tool)] == 2
    latency = (("tool", "coordinador_conteo_servicios"),)
    assert samples[("miot_tool_latency_seconds_count", latency)] == 2
    seat = (("agent", "synthesizer"), ("model", "offline"))
    assert samples[("miot_model_calls_total", seat)] == 2
    input_tokens = (("agent", "synthesizer"), ("direction", "input"), ("model", "offline"))
    assert samples[("miot_model_tokens_total", input_tokens)] == 240
    assert samples[("process_resident_memory_bytes", ())] > 0


async def test_each_app_has_its_own_metrics_registry(tmp_path: Path) -> None:
    first = create_app(api_settings(tmp_path / "a"), runtime_factory=RuntimeBox().factory)
    second = create_app(api_settings(tmp_path / "b"), runtime_factory=RuntimeBox().factory)
    async with asgi_client(first) as one, asgi_client(second) as two:
        await one.post("/runs", json=QUESTION, headers=AUTH)
        counted = _samples((await two.get("/metrics")).text)
    assert not any(name == "miot_runs_total" for name, _ in counted)


def test_openapi_declares_every_status_and_the_event_stream(keyed_app) -> None:
    paths = keyed_app.openapi()["paths"]
    declared = {
        (method, path): set(operation["responses"])
        for path, operations in paths.items()
        for method, operation in operations.items()
    }
    assert declared[("post", "/runs")] >= {"200", "401", "413", "422", "429"}
    assert declared[("post", "/runs/stream")] >= {"200", "401", "413", "422", "429"}
    assert declared[("get", "/runs/{run_id}")] >= {"200", "401", "404", "422"}
    assert declared[("get", "/threads/{thread_id}/runs")] >= {"200", "401", "404", "422"}
    stream_ok = paths["/runs/stream"]["post"]["responses"]["200"]["content"]
    assert list(stream_ok) == ["text/event-stream"]
    busy = paths["/runs"]["post"]["responses"]["429"]
    assert "Retry-After" in busy["headers"]
    assert "line is full" in busy["description"] and "ran out" in busy["description"]
