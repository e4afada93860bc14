"""Names of a test's own, so that tests can share a server (the `server` fixture is shared by
a module's tests): users and rooms nobody else uses, and rooms made the way a person would."""

from __future__ import annotations

import uuid

import httpx

from tests.services import HubbubServer


def unique(prefix: str) -> str:
    """A user or room name no other test uses: the prefix and 6 hex digits (a room name stays
    within its 32 characters for a prefix of up to 25)."""
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def fresh_room(server: HubbubServer, prefix: str = "room") -> str:
    """A new public room on a server in auth mode none, made by a user of its own (room
    creation is limited per user, and per address for anonymous callers)."""
    name = unique(prefix)
    with httpx.Client(base_url=server.url) as http:
        assert http.post("/api/login", json={"name": unique("maker")}).status_code == 200
        made = http.post("/api/rooms", json={"name": name})
        assert made.status_code == 201, made.text
    return name
