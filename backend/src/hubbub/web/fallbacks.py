"""What answers when no route does. A GET for a path no route has is the UI's (client-side
routes), unless the path is the server's own. A method a path does not take is 405 with every
method the path does take in Allow: FastAPI gives each method of a path a route of its own,
and Starlette's answer names only the first route's. HEAD is answered wherever GET is
(web/requests.py, HeadAsGet).

A catch-all GET route would do the first, but it would also answer GET on a path that takes
only POST with a 404 instead of a 405.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, compile_path

from hubbub.static import UI


class Methods:
    """Which methods each path of the app takes, from its routes (read once, when first asked:
    routes do not change once the app serves)."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self._routes = routes
        self._table: list[tuple[re.Pattern[str], frozenset[str]]] | None = None

    def allowed(self, path: str) -> list[str]:
        if self._table is None:
            self._table = [
                (compile_path(context.path)[0], frozenset(context.methods))
                for context in iter_route_contexts(self._routes)
                if context.path is not None and context.methods
            ]
        methods = {m for regex, route_methods in self._table if regex.match(path) for m in route_methods}
        if "GET" in methods:
            methods.add("HEAD")
        return sorted(methods)


def install(app: FastAPI, ui: UI) -> None:
    methods = Methods(app.routes)

    async def no_route(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 405:
            allow = ", ".join(methods.allowed(request.scope["path"]))
            return JSONResponse({"detail": "Method Not Allowed"}, status_code=405, headers={"Allow": allow})
        if exc.status_code == 404 and request.method == "GET" and "endpoint" not in request.scope:
            page = ui.page(request.url.path.lstrip("/"))
            if page is not None:
                return page
        return await http_exception_handler(request, exc)

    app.add_exception_handler(HTTPException, no_route)
