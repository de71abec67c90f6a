"""What every request to the review API meets before any route sees it, as one ASGI layer.

In order: the ``Host`` header must be one the server answers to (pages must not be built for
a host an attacker chose); a body larger than :data:`MAX_BODY_BYTES` is refused with 413 from
its ``Content-Length`` before a byte of it is read (and cut off at the limit when it comes
chunked); a review action's ``X-API-Key`` is checked before its body is read or parsed. Every
response, errors included, carries the security headers of :data:`SECURITY_HEADERS`.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contentfab.core.settings import Settings

__all__ = ["DEFAULT_HOSTS", "MAX_BODY_BYTES", "SECURITY_HEADERS", "RequestGuard"]

MAX_BODY_BYTES = 1 << 20
"""The largest review request is a bulk approval or an edit of at most 5,000 characters."""
DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1")
SECURITY_HEADERS = {
    # Scripts and styles come from this server only; no inline script anywhere. Inline
    # style *attributes* stay allowed: the progress bar's width is one.
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class RequestGuard:
    def __init__(self, app: ASGIApp, settings: Settings, hosts: Iterable[str] = ()) -> None:
        self.app, self.settings = app, settings
        self.hosts = {h.strip("[]").lower() for h in (*DEFAULT_HOSTS, *hosts) if h}
        self.any_host = "*" in self.hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        send = _with_security_headers(send)
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await _answer(send, *refusal)
            return
        received = 0
        too_large = False

        async def counted_receive() -> Message:
            # Past the limit the app is told the body ended; whatever it answers to the cut
            # body is replaced by the 413 below.
            nonlocal received, too_large
            if too_large:
                return {"type": "http.request", "body": b"", "more_body": False}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY_BYTES:
                    too_large = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        answered = False

        async def guarded_send(message: Message) -> None:
            nonlocal answered
            if not too_large:
                await send(message)
            elif not answered:
                answered = True
                await _answer(send, 413, _too_large())

        await self.app(scope, counted_receive, guarded_send)

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str] | None:
        host = headers.get("host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if not self.any_host and name.strip("[]").lower() not in self.hosts:
            return 400, "this server does not answer to that Host header"
        length = headers.get("content-length")
        if length is not None:
            if not (length.isascii() and length.isdigit() and len(length) < 20):
                return 400, "invalid Content-Length"
            if int(length) > MAX_BODY_BYTES:
                return 413, _too_large()
        if scope["method"] in _WRITES and scope["path"].startswith("/api/"):
            settings = self.settings
            if settings.read_only:
                return 403, "this server is read-only"
            if not settings.api_key:
                return 403, "review actions need CONTENTFAB_API_KEY on the server"
            key = headers.get("x-api-key")
            if key is None or not hmac.compare_digest(key.encode(), settings.api_key.encode()):
                return 401, "missing or wrong X-API-Key"
        return None


def _too_large() -> str:
    return f"the request body is larger than {MAX_BODY_BYTES:,} bytes"


def _with_security_headers(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            present = {k.lower() for k, _ in message.get("headers", [])}
            extra = [
                (k.encode(), v.encode())
                for k, v in SECURITY_HEADERS.items()
                if k.encode() not in present
            ]
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return wrapped


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if status == 413:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
