"""Error bodies name what is wrong and never echo what was sent: random asset names, ids,
query values and field names; and a 422 says when JSON is nested too deeply or a number
is too long."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from api_support import MINTRAL_KEY, RuntimeBox, api_settings, bearer
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from miot_harness.api.app import create_app
from miot_harness.api.errors import TOO_DEEP, TOO_MANY_DIGITS

AUTH = bearer(MINTRAL_KEY)
MARKER = "Zq7Echo"
# Anything a path segment can carry, markup and quotes included, around a recognisable marker.
SENT = st.text(min_size=0, max_size=30).map(lambda text: f"{MARKER}{text}<img src=x>'\"")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = create_app(
        api_settings(Path(tmp_path_factory.mktemp("echo"))), runtime_factory=RuntimeBox().factory
    )
    with TestClient(app, base_url="http://127.0.0.1") as http:
        yield http


def _echoes(text: str) -> bool:
    return MARKER.lower() in text.lower() or "<img" in text


PROPERTY = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPERTY
@given(name=SENT)
def test_an_unknown_asset_is_named_no_such_asset(client: TestClient, name: str) -> None:
    for prefix in ("/ui/assets/", "/docs/assets/"):
        response = client.get(prefix + quote(name, safe=""), headers=AUTH)
        assert response.status_code == 404, (prefix, name)
        assert not _echoes(response.text), response.text
    # A name with "/" reaches no route at all (Starlette's "Not Found").
    detail = client.get("/ui/assets/" + quote(name, safe="")).json()["detail"]
    assert detail == ("Not Found" if "/" in name else "no such asset")


@PROPERTY
@given(sent=SENT)
def test_ids_and_query_values_are_never_reflected(client: TestClient, sent: str) -> None:
    segment = quote(sent, safe="")
    responses = [
        client.get(f"/runs/{segment}", headers=AUTH),
        client.get(f"/threads/{segment}/runs", headers=AUTH),
        client.get(f"/threads?limit={segment}&offset={segment}", headers=AUTH),
        client.get(f"/{segment}", headers=AUTH),
        client.post("/runs", json={"message": "hola", "thread_id": sent}, headers=AUTH),
        client.post("/runs", json={"message": "hola", sent: 1}, headers=AUTH),
        client.post(
            "/runs", content=sent.encode(), headers=AUTH | {"Content-Type": "application/json"}
        ),
    ]
    for response in responses:
        assert 400 <= response.status_code < 500, (response.request.url, response.status_code)
        assert not _echoes(response.text), (response.request.url, response.text)


def test_a_plain_unknown_field_is_still_named(client: TestClient) -> None:
    response = client.post("/runs", json={"message": "hola", "sudo": True}, headers=AUTH)
    assert [issue["loc"] for issue in response.json()["detail"]] == [["body", "sudo"]]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"[" * 5000 + b"]" * 5000, TOO_DEEP),
        (b'{"message": ' + b"[" * 10_000 + b"]" * 10_000 + b"}", TOO_DEEP),
        (b'{"message": "hola", "thread_id": ' + b"9" * 5000 + b"}", TOO_MANY_DIGITS),
    ],
)
def test_a_nesting_or_number_size_rejection_says_so(
    client: TestClient, content: bytes, reason: str
) -> None:
    for path in ("/runs", "/runs/stream"):
        response = client.post(
            path, content=content, headers=AUTH | {"Content-Type": "application/json"}
        )
        assert response.status_code == 422, path
        assert response.json() == {
            "detail": [{"type": "body_unparsable", "loc": ["body"], "msg": reason}]
        }


def test_a_body_that_is_not_utf8_still_says_so(client: TestClient) -> None:
    response = client.post(
        "/runs", content=b"\xff{", headers=AUTH | {"Content-Type": "application/json"}
    )
    assert response.json()["detail"][0]["msg"] == "the body is not UTF-8 JSON"
    assert json.loads(response.text)
