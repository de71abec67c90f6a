"""The review HTTP API and the web gallery, one FastAPI app built by :func:`create_api`.

Reads are open; review actions (approve, reject, edit, bulk approve) need the ``X-API-Key``
header to equal ``settings.api_key`` and are refused outright when no key is configured or
``settings.read_only`` is set. Queries and review rules live in :mod:`db.review`; this module
only translates HTTP to those calls and back.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker

from contentfab.api import assets, campaigns, gallery
from contentfab.api.guard import RequestGuard
from contentfab.api.schemas import EVENT_INTERVAL, _gate_failures
from contentfab.api.views import _page_params
from contentfab.core.errors import DoesNotFitError, GatesFailedError, InputError, NotFoundError
from contentfab.core.settings import Settings
from contentfab.db.session import configure

WEB = Path(__file__).parents[1] / "web"


def create_api(
    settings: Settings, sessions: sessionmaker[Session] | None = None, hosts: Sequence[str] = ()
) -> FastAPI:
    """The API under /api, the gallery under /, static files under /static; ``hosts`` are
    names the server answers to besides localhost and ``settings.allowed_hosts``
    (:mod:`contentfab.api.guard`). The OpenAPI spec is at /openapi.json; there is no /docs
    page, whose scripts would come from a CDN."""
    if sessions is None:
        sessions = configure(settings.database_url)
    app = FastAPI(
        title="contentfab review API",
        version="1",
        description="Query generated assets, review them, export the approved ones.",
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(RequestGuard, settings=settings, hosts=[*settings.allowed_hosts, *hosts])
    templates = Jinja2Templates(directory=WEB / "templates")
    templates.env.filters["pageparams"] = _page_params
    app.state.settings = settings
    app.state.sessions = sessions
    app.state.templates = templates
    app.state.event_interval = EVENT_INTERVAL
    app.mount("/static", StaticFiles(directory=WEB / "static"), name="static")

    @app.exception_handler(NotFoundError)
    def _not_found(_: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(DoesNotFitError)
    def _does_not_fit(_: Request, exc: DoesNotFitError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(GatesFailedError)
    def _gates_failed(_: Request, exc: GatesFailedError) -> JSONResponse:
        gates = [g.model_dump() for g in _gate_failures(exc.failures)]
        return JSONResponse({"detail": str(exc), "gates": gates}, status_code=422)

    @app.exception_handler(InputError)
    def _bad_input(_: Request, exc: InputError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    app.include_router(campaigns.router)
    app.include_router(assets.router)
    app.include_router(gallery.router)
    return app
