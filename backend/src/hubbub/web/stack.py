"""How the guards wrap the app, the API docs page under a policy of its own, and validation
errors that say what is wrong without repeating what was sent."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.types import ASGIApp

from hubbub.settings import Settings
from hubbub.web.headers import SecurityHeaders
from hubbub.web.hosts import AllowedHosts
from hubbub.web.proxies import ForwardedHeaders
from hubbub.web.requests import FORM_OVERHEAD, BodyLimit, HeadAsGet, NoNulInUrl, SameOriginWrites

SWAGGER_CDN = "https://cdn.jsdelivr.net"
MAX_ERRORS = 10


def guard(app: ASGIApp, settings: Settings) -> ASGIApp:
    """Outermost first: who is really asking (a trusted proxy's forwarded headers), then every
    answer gets the security headers, including refusals below."""
    inner = SameOriginWrites(HeadAsGet(app), settings.allowed_origins)
    limited = BodyLimit(inner, settings.max_request_bytes, settings.max_upload_bytes + FORM_OVERHEAD)
    hosts = AllowedHosts(NoNulInUrl(limited), settings)
    return ForwardedHeaders(SecurityHeaders(hosts, settings, hosts.allowed), settings.trusted_proxies)


def docs_page(openapi_url: str, title: str) -> HTMLResponse:
    """FastAPI's Swagger UI page. It loads Swagger from a CDN and starts it with an inline
    script, so it gets its own policy: that CDN, and that one script by its hash."""
    page = get_swagger_ui_html(openapi_url=openapi_url, title=title)
    html = bytes(page.body).decode()
    scripts = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in scripts
    )
    csp = (
        f"default-src 'self'; script-src {SWAGGER_CDN} {hashes}; style-src {SWAGGER_CDN}; "
        "img-src 'self' data: https://fastapi.tiangolo.com; connect-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    return HTMLResponse(html, headers={"content-security-policy": csp, "cache-control": "no-cache"})


async def invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    """422 with where and what, never the input itself: a request is not echoed back whole."""
    assert isinstance(exc, RequestValidationError)
    errors: list[dict[str, Any]] = [
        {"loc": [str(part)[:64] for part in error["loc"]], "msg": error["msg"], "type": error["type"]}
        for error in exc.errors()[:MAX_ERRORS]
    ]
    return JSONResponse({"detail": errors}, status_code=422)
