"""DNS rebinding: without keys only loopback Host and Origin values are answered (plus
MIOT_HARNESS_ALLOWED_HOSTS); with keys, Host follows MIOT_HARNESS_ALLOWED_HOSTS when set."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_support import MINTRAL_KEY, RuntimeBox, api_settings, asgi_client, bearer

from miot_harness.api.app import create_app
from miot_harness.api.host_guard import HostPolicy, host_name

QUESTION = {"message": "conteo de servicios por región", "tenant_id": "acme", "user_id": "eve"}


@pytest.mark.parametrize(
    ("authority", "name"),
    [
        ("localhost:8872", "localhost"),
        ("LOCALHOST", "localhost"),
        ("127.0.0.1", "127.0.0.1"),
        ("[::1]:8000", "::1"),
        ("[::1", ""),
        ("evil.example:8872", "evil.example"),
    ],
)
def test_host_name_drops_the_port_and_brackets(authority: str, name: str) -> None:
    assert host_name(authority) == name


def test_a_wildcard_entry_matches_subdomains_only() -> None:
    policy = HostPolicy(frozenset({"*.corp.example"}), check_origin=False)
    assert policy.allows("api.corp.example")
    assert not policy.allows("corp.example")
    assert not policy.allows("evilcorp.example")


async def test_a_rebinding_request_gets_403_before_any_run_and_stores_nothing(
    open_app, box: RuntimeBox
) -> None:
    async with asgi_client(open_app) as client:
        rebinding = {"Host": "evil.example:8872", "Origin": "http://evil.example:8872"}
        refused = await client.post("/runs", json=QUESTION, headers=rebinding)
        assert refused.status_code == 403
        assert refused.json() == {
            "detail": "host not allowed: this server answers loopback names and "
            "MIOT_HARNESS_ALLOWED_HOSTS"
        }
        assert "evil" not in refused.text
        foreign_origin = await client.post(
            "/runs", json=QUESTION, headers={"Origin": "http://evil.example:8872"}
        )
        assert foreign_origin.status_code == 403
        assert foreign_origin.json()["detail"].startswith("origin not allowed")
        for origin in ("null", "file://", "http://localhost.evil.example"):
            response = await client.get("/health", headers={"Origin": origin})
            assert response.status_code == 403, origin
        assert box.get().turns.finished == []
        stored = await box.get().store.list_threads("acme", "eve", limit=10, offset=0)
        assert stored.total == 0, "nothing was stored"


@pytest.mark.parametrize(
    ("host", "origin"),
    [
        ("127.0.0.1:8872", None),
        ("localhost:9999", "http://localhost:9999"),
        ("LOCALHOST", "http://127.0.0.1:8000"),
        ("[::1]:8000", "http://[::1]:8000"),
    ],
)
async def test_loopback_host_and_origin_pass(open_app, host: str, origin: str | None) -> None:
    headers = {"Host": host} | ({"Origin": origin} if origin else {})
    async with asgi_client(open_app) as client:
        response = await client.post("/runs", json=QUESTION, headers=headers)
        assert response.status_code == 200, response.text


async def test_allowed_hosts_add_names_to_an_open_server(tmp_path: Path, box: RuntimeBox) -> None:
    settings = api_settings(tmp_path, keys=False, allowed_hosts="harness.lan")
    app = create_app(settings, runtime_factory=box.factory)
    async with asgi_client(app) as client:
        named = {"Host": "harness.lan:8000", "Origin": "http://harness.lan:8000"}
        assert (await client.get("/health", headers=named)).status_code == 200
        assert (await client.get("/health", headers={"Host": "other.lan"})).status_code == 403


async def test_with_keys_host_follows_allowed_hosts_only_when_set(
    tmp_path: Path, box: RuntimeBox, keyed_app
) -> None:
    async with asgi_client(keyed_app) as client:
        anywhere = await client.get("/tools", headers={"Host": "api.example"} | bearer(MINTRAL_KEY))
        assert anywhere.status_code == 200, "no allowed hosts configured: keys decide"
    settings = api_settings(tmp_path / "named", allowed_hosts="api.example")
    async with asgi_client(create_app(settings, runtime_factory=box.factory)) as client:
        auth = bearer(MINTRAL_KEY)
        assert (await client.get("/tools", headers={"Host": "api.example"} | auth)).is_success
        other = await client.get("/tools", headers={"Host": "127.0.0.1"} | auth)
        assert other.status_code == 403
