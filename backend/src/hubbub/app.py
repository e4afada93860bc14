"""The ASGI application: create_app(settings) builds a fresh one, with nothing shared between two."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from starlette.types import ASGIApp

from hubbub import __version__
from hubbub.contract.schema import add_websocket_schemas, refuse_nul_in_urls
from hubbub.logs import install_redaction
from hubbub.routes import admin, api, bots, chat_ws, errors, files, oidc, ops, people, rooms, search, tutorial
from hubbub.runtime import Runtime
from hubbub.settings import Settings
from hubbub.static import UI
from hubbub.store import SchemaTooNewError
from hubbub.web import fallbacks
from hubbub.web.stack import docs_page, guard, invalid_request

log = logging.getLogger("hubbub")


class HubbubApp(FastAPI):
    """FastAPI with Hubbub's guards outermost, so that whatever answers (a route, an error
    page, a refusal) answers through them."""

    def build_middleware_stack(self) -> ASGIApp:
        runtime: Runtime = self.state.runtime
        return guard(super().build_middleware_stack(), runtime.settings)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    install_redaction()
    runtime = Runtime.build(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            await runtime.start()
        except SchemaTooNewError as exc:
            log.critical("hubbub cannot start: %s", exc)
            raise
        log.info(
            "hubbub %s ready: auth=%s store=%s broker=%s",
            __version__,
            settings.auth.value,
            settings.effective_database_url.split("://", 1)[0],
            settings.effective_broker_url.split("://", 1)[0],
        )
        try:
            yield
        finally:
            await runtime.stop()

    app = HubbubApp(
        title="Hubbub",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.runtime = runtime

    @app.get("/api/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return docs_page("/api/openapi.json", "Hubbub API")

    app.add_exception_handler(RequestValidationError, invalid_request)

    def openapi() -> dict[str, Any]:
        # One document for REST and the WebSocket frames: the UI's types are generated from it.
        if app.openapi_schema is None:
            app.openapi_schema = refuse_nul_in_urls(add_websocket_schemas(get_openapi_document(app)))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    app.include_router(ops.router)
    app.include_router(api.router)
    app.include_router(oidc.router)
    app.include_router(rooms.router)
    app.include_router(search.router)
    app.include_router(bots.router)
    app.include_router(people.router)
    app.include_router(admin.router)
    app.include_router(files.router)
    errors.install(app)
    app.include_router(chat_ws.router)
    app.include_router(tutorial.router)
    ui = UI(settings.static_dir)
    ui.mount_assets(app)
    fallbacks.install(app, ui)
    return app


# A fan-out to n connections allocates about ten container objects per connection, all dead
# milliseconds later. At CPython's default gen-0 threshold (700) the young generations are
# collected many times during one fan-out, so those objects survive, get promoted and set off
# full collections: 40-130 ms pauses for everyone with 1000 connections. A larger gen-0 lets
# them die young (bench/ stalled-0: healthy p99 120 ms -> 45 ms, no full collection in 30 s).
GC_GEN0_THRESHOLD = 50_000


def tune_gc_for_fanout() -> None:
    gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(max(gen0, GC_GEN0_THRESHOLD), gen1, gen2)


def get_openapi_document(app: FastAPI) -> dict[str, Any]:
    return get_openapi(
        title=app.title,
        version=app.version,
        description="REST endpoints of Hubbub; the JSON chat frames (`/api/ws`) and close codes "
        "are in the components as ClientCommand, ServerEvent and CloseCode (docs/protocol.md).",
        routes=app.routes,
    )


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` and gunicorn, one per server process: settings come
    from the environment, and the process is set up for serving."""
    tune_gc_for_fanout()
    return create_app(Settings())
