"""The page router in-process: page, assets, config and the Markdown endpoint."""

from __future__ import annotations

from importlib import resources

import httpx
import pytest
from fastapi import FastAPI

from miot_harness.settings import load_settings
from miot_harness.web import web_router
from miot_harness.web.router import MAX_COLUMNS, MAX_MARKDOWN_CHARS

HOSTILE = '<script>window.pwned=1</script> y <img src=x onerror="window.pwned=1">'


@pytest.fixture(scope="module")
async def client():
    app = FastAPI()
    settings = load_settings(timezone="America/Santiago", nexo_freshness_warn_minutes=7)
    app.include_router(web_router(settings))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://page"
    ) as http:
        yield http


async def test_page_is_served_with_a_strict_content_security_policy(client):
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert 'id="q"' in response.text and 'src="/ui/assets/app.js"' in response.text
    # Nothing is loaded from another origin: no CDN, no external fonts.
    assert "http://" not in response.text and "https://" not in response.text


async def test_assets_are_served_and_unknown_names_are_404(client):
    script = await client.get("/ui/assets/app.js")
    style = await client.get("/ui/assets/app.css")
    assert script.headers["content-type"].startswith("text/javascript")
    assert style.headers["content-type"].startswith("text/css")
    assert "/runs/stream" in script.text
    assert "@import" not in style.text and "url(http" not in style.text
    assert (await client.get("/ui/assets/../router.py")).status_code == 404
    assert (await client.get("/ui/assets/secret.txt")).status_code == 404


async def test_the_chart_library_is_vendored_with_its_licence_and_no_eval(client):
    page = (await client.get("/")).text
    assert page.index('src="/ui/assets/echarts.min.js"') < page.index('src="/ui/assets/app.js"')
    library = await client.get("/ui/assets/echarts.min.js")
    assert library.status_code == 200
    assert library.headers["content-type"].startswith("text/javascript")
    assert "unsafe-eval" not in library.headers["content-security-policy"]
    assert 'version:"6.1.0"' in library.text
    vendor = resources.files("miot_harness.web").joinpath("static", "vendor", "echarts")
    assert "Apache License" in vendor.joinpath("LICENSE").read_text("utf-8")
    assert "echarts@6.1.0" in vendor.joinpath("README.md").read_text("utf-8")


async def test_an_unchanged_asset_is_not_sent_again(client):
    first = await client.get("/ui/assets/echarts.min.js")
    tag = first.headers["etag"]
    again = await client.get("/ui/assets/echarts.min.js", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    other = await client.get("/ui/assets/app.js", headers={"If-None-Match": tag})
    assert other.status_code == 200 and other.headers["etag"] != tag


async def test_config_reflects_the_settings(client):
    body = (await client.get("/ui/config")).json()
    assert body == {
        "timezone": "America/Santiago",
        "freshness_warn_minutes": 7,
        "freshness_refuse_minutes": 120,
    }


async def test_render_turns_markdown_into_html_and_escapes_raw_html(client):
    table = "| a | b |\n|---|---|\n| 1 | 2 |"
    markdown = f"## Resumen\n\n**12** servicios críticos. {HOSTILE}\n\n{table}"
    response = await client.post("/ui/render", json={"markdown": markdown})
    assert response.status_code == 200
    html = response.json()["html"]
    assert "<h2>Resumen</h2>" in html and "<strong>12</strong>" in html
    assert "<table>" in html and "<td>2</td>" in html
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "&lt;img" in html


@pytest.mark.parametrize(
    "markdown",
    [
        "[x](javascript:alert(1))",
        "[haz clic](http://malicioso.example/robar)",
        "![logo](http://malicioso.example/pixel.png)",
        "<http://malicioso.example/robar>",
        "[ref]\n\n[ref]: http://malicioso.example/robar",
    ],
)
async def test_render_keeps_links_and_images_as_text(client, markdown):
    html = (await client.post("/ui/render", json={"markdown": markdown})).json()["html"]
    assert "href" not in html and "<a" not in html and "<img" not in html
    assert "malicioso" in html or "javascript" in html


async def test_render_names_the_columns_as_the_harness_tables_do(client):
    columns = ["pct_a_tiempo", "n_atrasados", "eta_clasificacion", "<b>x</b>"]
    columns += ["refreshed_at_servicios", "total_count"]
    response = await client.post("/ui/render", json={"markdown": "hola", "columns": columns})
    assert response.status_code == 200
    words = response.json()["columns"]
    assert {key: (word["label"], word["percent"]) for key, word in words.items()} == {
        "pct_a_tiempo": ("% a tiempo", True),
        "n_atrasados": ("Atrasados", False),
        "eta_clasificacion": ("ETA clasificación", False),
        "<b>x</b>": ("<b>x</b>", False),
        "refreshed_at_servicios": ("Refreshed at servicios", False),
        "total_count": ("Total count", False),
    }
    # The harness's tables leave out the refresh stamps and the total; so does the page's.
    assert [key for key, word in words.items() if word["bookkeeping"]] == columns[-2:]
    assert (await client.post("/ui/render", json={"markdown": "hola"})).json()["columns"] == {}


async def test_render_rejects_too_many_columns(client):
    columns = [f"c{n}" for n in range(MAX_COLUMNS + 1)]
    response = await client.post("/ui/render", json={"markdown": "hola", "columns": columns})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "columns"]


async def test_render_rejects_a_body_without_markdown(client):
    response = await client.post("/ui/render", json={"texto": "hola"})
    assert response.status_code == 422
    locs = [error["loc"] for error in response.json()["detail"]]
    assert ["body", "markdown"] in locs


async def test_render_rejects_markdown_over_the_cap(client):
    response = await client.post("/ui/render", json={"markdown": "x" * (MAX_MARKDOWN_CHARS + 1)})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "markdown"]
