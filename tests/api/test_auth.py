"""API keys: parsing, constant-time matching, tenant from the key, and the open loopback mode."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from api_support import (
    ACME_KEY,
    MINTRAL_KEY,
    RuntimeBox,
    api_settings,
    asgi_client,
    bearer,
)

from miot_harness.api.app import create_app
from miot_harness.api.auth import (
    ApiKeyRing,
    AuthConfigError,
    OpenServerRefused,
    ensure_bind_allowed,
    is_loopback_host,
)
from miot_harness.settings import load_settings

QUESTION = {"message": "¿cuántos servicios hay hoy en la RM?"}


def test_key_ring_matches_only_configured_keys(tmp_path: Path) -> None:
    ring = ApiKeyRing.from_settings(api_settings(tmp_path))
    assert not ring.is_open
    owner = ring.owner_of(MINTRAL_KEY)
    assert owner is not None and (owner.tenant_id, owner.user_id) == ("mintral", "ana")
    assert ring.owner_of(MINTRAL_KEY + "x") is None
    assert ring.owner_of("") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("not json", "not valid JSON"),
        ("[]", "non-empty JSON object"),
        ("{}", "non-empty JSON object"),
        (json.dumps({"s3cret-key": {"tenant_id": "mintral"}}), "entry 1: invalid user_id"),
        (json.dumps({"s3cret-key": {"tenant_id": "mi ntral", "user_id": "u"}}), "tenant_id"),
    ],
)
def test_bad_key_configuration_is_refused_without_echoing_keys(
    tmp_path: Path, raw: str, expected: str
) -> None:
    settings = load_settings(data_dir=tmp_path, api_keys=raw)
    with pytest.raises(AuthConfigError) as caught:
        create_app(settings, runtime_factory=RuntimeBox().factory)
    assert expected in str(caught.value)
    assert "s3cret-key" not in str(caught.value)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.1.2.3", False),
        ("example.org", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_open_server_refuses_to_bind_beyond_loopback(tmp_path: Path) -> None:
    ensure_bind_allowed(api_settings(tmp_path, keys=False), "127.0.0.1")
    with pytest.raises(OpenServerRefused, match=r"0\.0\.0\.0"):
        ensure_bind_allowed(api_settings(tmp_path, keys=False), "0.0.0.0")
    ensure_bind_allowed(api_settings(tmp_path), "0.0.0.0")


async def test_open_server_warns_loudly_and_answers_loopback_only(
    open_app, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="miot_harness.api"):
        async with asgi_client(open_app) as local:
            assert (await local.get("/health")).status_code == 200
            run = await local.post("/runs", json=QUESTION)
            assert run.status_code == 200
            assert (run.json()["tenant_id"], run.json()["user_id"]) == ("mintral", "local")
    assert any("NO API KEYS CONFIGURED" in r.getMessage() for r in caplog.records)
    async with asgi_client(open_app, base_url="http://10.1.2.3") as remote:
        for path in ("/health", "/metrics", "/tools"):
            refused = await remote.get(path)
            assert refused.status_code == 401, path
            assert "loopback" in refused.json()["detail"]


async def test_keyed_server_answers_network_clients_with_a_key(keyed_app) -> None:
    async with asgi_client(keyed_app, base_url="http://10.1.2.3") as remote:
        assert (await remote.get("/tools", headers=bearer(MINTRAL_KEY))).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {MINTRAL_KEY}"},
        {"Authorization": "Bearer "},
        {"X-API-Key": "wrong"},
    ],
)
async def test_missing_or_wrong_key_gets_401_everywhere(keyed_app, headers) -> None:
    async with asgi_client(keyed_app) as client:
        for method, path in [
            ("POST", "/runs"),
            ("POST", "/runs/stream"),
            ("GET", "/runs/abc"),
            ("GET", "/threads/abc/runs"),
            ("GET", "/tools"),
        ]:
            response = await client.request(method, path, json=QUESTION, headers=headers)
            assert response.status_code == 401, (method, path)
            assert response.headers["www-authenticate"] == "Bearer"


async def test_both_header_forms_authenticate(keyed_app) -> None:
    async with asgi_client(keyed_app) as client:
        by_bearer = await client.post("/runs", json=QUESTION, headers=bearer(ACME_KEY))
        by_header = await client.post("/runs", json=QUESTION, headers={"X-API-Key": ACME_KEY})
    assert by_bearer.json()["tenant_id"] == by_header.json()["tenant_id"] == "acme"


async def test_body_tenant_and_user_cannot_override_the_key(keyed_app, box: RuntimeBox) -> None:
    body = {**QUESTION, "tenant_id": "mintral", "user_id": "admin"}
    async with asgi_client(keyed_app) as client:
        response = await client.post("/runs", json=body, headers=bearer(ACME_KEY))
        record = response.json()
        assert (record["tenant_id"], record["user_id"]) == ("acme", "bob")
        started = next(e for e in record["events"] if e["type"] == "run.started")
        assert started["payload"]["tenant_id"] == "acme"
        stored = await box.get().store.get(record["run_id"], "acme")
        assert stored is not None and stored.user_id == "bob"


async def test_another_tenant_reads_nothing(keyed_app) -> None:
    async with asgi_client(keyed_app) as client:
        thread = {"thread_id": "turno-noche", **QUESTION}
        record = (await client.post("/runs", json=thread, headers=bearer(MINTRAL_KEY))).json()
        own = await client.get(f"/runs/{record['run_id']}", headers=bearer(MINTRAL_KEY))
        assert own.status_code == 200 and own.json()["answer"] == record["answer"]
        other = await client.get(f"/runs/{record['run_id']}", headers=bearer(ACME_KEY))
        assert other.status_code == 404
        runs = await client.get("/threads/turno-noche/runs", headers=bearer(MINTRAL_KEY))
        assert [r["run_id"] for r in runs.json()["runs"]] == [record["run_id"]]
        hidden = await client.get("/threads/turno-noche/runs", headers=bearer(ACME_KEY))
        assert hidden.status_code == 404


async def test_an_open_server_reads_as_the_tenant_lock(open_app) -> None:
    async with asgi_client(open_app) as client:
        own = (await client.post("/runs", json=QUESTION)).json()
        claimed = (await client.post("/runs", json={**QUESTION, "tenant_id": "acme"})).json()
        assert claimed["tenant_id"] == "acme"
        assert (await client.get(f"/runs/{own['run_id']}")).json() == own
        assert (await client.get(f"/runs/{claimed['run_id']}")).status_code == 404
