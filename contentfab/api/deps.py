"""Request dependencies: a read session, a write session behind the API key, the settings."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session

from contentfab.core.settings import Settings

# --------------------------------------------------------------------------- dependencies

KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False)


def _reader(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def _writer(
    request: Request, key: Annotated[str | None, Security(KEY_HEADER)]
) -> Iterator[Session]:
    settings: Settings = request.app.state.settings
    if settings.read_only:
        raise HTTPException(403, "this server is read-only")
    if not settings.api_key:
        raise HTTPException(403, "review actions need CONTENTFAB_API_KEY on the server")
    if key is None or not hmac.compare_digest(key.encode(), settings.api_key.encode()):
        raise HTTPException(401, "missing or wrong X-API-Key")
    with request.app.state.sessions() as session, session.begin():
        yield session


# scope="function": a review commits before its response is sent, so a client that sees 200 can
# rely on the change being stored.
Reader = Annotated[Session, Depends(_reader, scope="function")]
Writer = Annotated[Session, Depends(_writer, scope="function")]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


#: The server's settings (``create_api`` keeps them on the app).
AppSettings = Annotated[Settings, Depends(_settings)]
