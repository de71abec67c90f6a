"""Fixtures for the review API: settings on a temporary data dir, a seeded campaign, a client."""

from __future__ import annotations

import pytest

from contentfab.core.settings import Settings
from tests.api.seed import Seeded, seed_campaign

API_KEY = "test-key-123"
WRITE = {"X-API-Key": API_KEY}


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, api_key=API_KEY)


@pytest.fixture
def seeded(sessions, settings) -> Seeded:
    return seed_campaign(sessions, settings.asset_dir)


@pytest.fixture
def client(settings, sessions):
    from fastapi.testclient import TestClient

    from contentfab.api import create_api

    with TestClient(create_api(settings, sessions), base_url="http://localhost") as test_client:
        yield test_client
