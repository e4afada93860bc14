"""What Hubbub's uvicorn protocol class (ws_protocol.py) needs of the uvicorn it runs on.

It subclasses uvicorn's websockets-sansio protocol (uvicorn 0.35 and later) and writes beside
it only while that protocol's write flow control says the transport has room (the `writable`
event, dependable since uvicorn 0.52.1). pyproject.toml pins the range that is tested; should
another uvicorn be installed anyway, the server starts with uvicorn's own protocol instead:
every frame through ASGI send, no direct writes and no kernel ping deadline, and one warning
that says so, rather than a failure on every connection.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import re

HUBBUB_PROTOCOL = "hubbub.transport.ws_protocol:WebSocketProtocol"
FALLBACK_PROTOCOL = "auto"
NEEDED = (0, 52, 1)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def protocol_unavailable(version: str | None = None) -> str | None:
    """Why Hubbub's protocol class cannot run on this uvicorn; None when it can."""
    version = version or importlib.metadata.version("uvicorn")
    if _version(version) < NEEDED:
        return f"uvicorn {version} is older than {'.'.join(map(str, NEEDED))}"
    try:
        module = importlib.import_module("uvicorn.protocols.websockets.websockets_sansio_impl")
    except ImportError:
        return f"uvicorn {version} has no websockets-sansio protocol"
    protocol = getattr(module, "WebSocketsSansIOProtocol", None)
    if protocol is None or not all(hasattr(protocol, name) for name in ("pause_writing", "handle_connect")):
        return f"uvicorn {version}'s websockets-sansio protocol is not the one Hubbub builds on"
    return None
