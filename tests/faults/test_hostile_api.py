"""Hostile requests to the review API (issue 16, items 9-13), on SQLite and PostgreSQL: bodies
over the limit are refused before they are read, the key before the body is parsed; no
client input makes a 5xx; only allowed Host names are answered and pages use relative URLs;
every response carries the security headers; SKUs are URL-encoded in exports."""

from __future__ import annotations

import asyncio
import base64
import json
from urllib.parse import quote, unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from contentfab.api import create_api
from contentfab.api.guard import MAX_BODY_BYTES, SECURITY_HEADERS
from contentfab.core.settings import Settings
from contentfab.db.models import Asset, AssetStatus, ContentKind, Product
from contentfab.db.session import transaction
from tests.api.conftest import API_KEY, WRITE
from tests.api.seed import Seeded, seed_campaign


@pytest.fixture
def api_settings(tmp_path, database_url) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, api_key=API_KEY)


@pytest.fixture
def seeded(sessions, api_settings) -> Seeded:
    return seed_campaign(sessions, api_settings.asset_dir)


@pytest.fixture
def client(api_settings, sessions):
    from fastapi.testclient import TestClient

    with TestClient(create_api(api_settings, sessions), base_url="http://localhost") as test:
        yield test


HYPOTHESIS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _asgi(app, method: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    """One request straight through ASGI whose body must never be read."""
    sent: list[dict] = []

    async def receive():
        raise AssertionError("the body was read")

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1),
        "server": ("localhost", 80),
    }
    asyncio.run(app(scope, receive, send))
    start = sent[0]
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}


@pytest.mark.parametrize("key", [None, API_KEY])
def test_a_body_over_the_limit_is_refused_before_it_is_read(api_settings, sessions, key):
    app = create_api(api_settings, sessions)
    headers = {"host": "localhost", "content-length": str(200 * 2**20)}
    if key:
        headers["x-api-key"] = key
    status, _ = _asgi(app, "POST", "/api/assets/1/approve", headers)
    assert status == 413


def test_the_key_is_checked_before_the_body_is_read(api_settings, sessions):
    app = create_api(api_settings, sessions)
    headers = {"host": "localhost", "content-length": "100", "content-type": "application/json"}
    assert _asgi(app, "PUT", "/api/assets/1/text", headers)[0] == 401
    assert _asgi(app, "POST", "/api/assets/approve", {**headers, "x-api-key": "no"})[0] == 401


def test_a_chunked_body_over_the_limit_is_cut_off(client, seeded):
    def chunks():
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b" " * 65536

    response = client.post(
        f"/api/assets/{seeded.copy_ids[0]}/approve", content=chunks(), headers=WRITE
    )
    assert response.status_code == 413


def _cursor(key, value, asset_id) -> str:
    raw = json.dumps([key, value, asset_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


HOSTILE_VALUES = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from(
        [2**63, -(2**63) - 1, 10**30, True, None, [], {}, "x", "\x00", 1.5, "2026-13-45"]
    ),
    st.text(max_size=20),
    st.floats(allow_nan=False, allow_infinity=False),
)


@HYPOTHESIS
@given(
    sort=st.sampled_from(["id", "-id", "created_at", "channel", "status", "kind", "relevance"]),
    value=HOSTILE_VALUES,
    asset_id=HOSTILE_VALUES,
)
def test_no_cursor_makes_a_server_error(client, seeded, sort, value, asset_id):
    params = {"sort": sort, "cursor": _cursor(sort.lstrip("-"), value, asset_id)}
    if sort == "relevance":
        params["q"] = "trail"
    response = client.get("/api/assets", params=params)
    assert response.status_code in (200, 400, 422), response.text


@pytest.mark.parametrize(
    "last_event_id", ["²", "١٢", "1" * 5000, "-1", "1e3", " 7 ", "18446744073709551617", "x"]
)
def test_no_last_event_id_makes_a_server_error(client, seeded, last_event_id):
    response = client.get(
        f"/api/campaigns/{seeded.campaign_id}/events",
        headers={"Last-Event-ID": last_event_id.encode()},
    )
    assert response.status_code == 200, response.text


def _approve_copy(sessions, campaign_id: int, sku: str) -> None:
    with transaction(sessions) as session:
        session.execute(
            update(Asset)
            .where(Asset.campaign_id == campaign_id, Asset.kind == ContentKind.COPY)
            .values(status=AssetStatus.APPROVED)
        )
        session.execute(update(Product).where(Product.sku == "TH-750").values(sku=sku))


@pytest.mark.parametrize("sku", ["Café-☕ 1", "ТЕРМОС/750?a=1&b#c", "商品 100%"])
def test_google_ads_export_encodes_skus_in_urls_and_headers(client, seeded, sessions, sku):
    _approve_copy(sessions, seeded.campaign_id, sku)
    with transaction(sessions) as session:  # one product short of headlines: it is skipped
        wk = session.scalars(select(Product.id).where(Product.sku == "WK-01")).one()
        session.execute(
            update(Asset)
            .where(Asset.product_id == wk, Asset.channel == "search_headline")
            .values(status=AssetStatus.REJECTED)
        )
        session.execute(update(Product).where(Product.id == wk).values(sku=sku + "-2"))
    response = client.get(
        f"/api/campaigns/{seeded.campaign_id}/export",
        params={"format": "google-ads-rsa", "final_url": "https://shop.example/p/{sku}"},
    )
    assert response.status_code == 200, response.text
    assert f"https://shop.example/p/{quote(sku, safe='')}" in response.text
    skipped = response.headers.get("x-skipped-products")
    assert skipped is not None and unquote(skipped) == sku + "-2"


def test_only_allowed_hosts_are_answered_and_pages_use_relative_urls(client, seeded):
    evil = client.get("/", headers={"Host": "evil.example"})
    assert evil.status_code == 400
    page = client.get(f"/campaigns/{seeded.campaign_id}")
    assert page.status_code == 200 and "http://" not in page.text.split("<body")[0]
    assert 'src="/static/gallery.js"' in page.text


@pytest.mark.parametrize(
    "path", ["/", "/api/campaigns", "/api/assets/999999", "/openapi.json", "/static/gallery.js"]
)
def test_every_response_carries_the_security_headers(client, seeded, path):
    response = client.get(path)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (path, name)
    assert (
        "'unsafe-inline'"
        not in response.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    )


def test_no_docs_page_loads_scripts_from_a_cdn(client):
    for path in ("/docs", "/redoc"):
        response = client.get(path)
        assert response.status_code == 404 or "cdn" not in response.text.lower()
    page = client.get("/")
    assert "cdn" not in page.text.lower() and "<script>" not in page.text
