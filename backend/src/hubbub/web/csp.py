"""The Content-Security-Policy the UI is served under (what an operator may add to it,
HUBBUB_CSP_EXTRA, is checked with the other settings, in settings.py).

The UI's scripts and styles are files of its own origin (Vite's bundle), so the policy names
nothing else: injected markup cannot run a script, load one, or frame the app, even if some
rendering bug let it into the page. It is the second wall behind React's escaping.
"""

from __future__ import annotations

import re

# Directive -> sources. connect-src also gets the page's own ws:/wss: origin (see policy()):
# browsers differ on whether 'self' covers WebSockets.
BASE: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "manifest-src": ["'self'"],
    "worker-src": ["'none'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

# A Host header as the policy may name it: a DNS name or a bracketed IPv6 address, and a port.
HOST_HEADER = re.compile(r"([a-z0-9]([a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(:[0-9]{1,5})?", re.IGNORECASE)


def websocket_source(host: str) -> str | None:
    """The page's own host and port as a source, made from the Host header only when it is one
    (never copied as it came: a header with anything else in it names nothing)."""
    return host.lower() if HOST_HEADER.fullmatch(host) else None


def policy(host: str | None, secure: bool, extra: dict[str, list[str]]) -> str:
    """The header value for a page served at ``host`` (websocket_source of a Host that is one
    of the allowed hosts; None: 'self' alone), over https when ``secure``."""
    directives = {name: list(sources) for name, sources in BASE.items()}
    if host is not None:
        directives["connect-src"].append(f"{'wss' if secure else 'ws'}://{host}")
    for name, sources in extra.items():
        directives.setdefault(name, ["'self'"] if name != "frame-src" else []).extend(sources)
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())
