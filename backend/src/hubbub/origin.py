"""Cross-site WebSocket hijacking defence: a browser's Origin must be one we trust."""

from __future__ import annotations

from starlette.datastructures import Headers


def origin_allowed(headers: Headers, allowed: list[str]) -> bool:
    origin = headers.get("origin")
    if origin is None:
        # Browsers always send Origin on WebSockets; its absence means a non-browser client,
        # which cannot be tricked into carrying a victim's cookies.
        return True
    if allowed:
        return origin in allowed
    host = headers.get("host")
    return host is not None and origin in (f"http://{host}", f"https://{host}")
