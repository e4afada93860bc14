"""People of the room tests: users with tokens (adam an admin), each user's view of a server,
and servers in every configuration (one store or the other, one worker or two)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.client import ChatClient
from tests.conftest import ServerFactory, fresh_database
from tests.services import HubbubServer

USERS = ["olga", "mike", "nina", "rita", "adam"]
TOKENS = {f"token-of-{u}-0123": ({"user": u, "admin": True} if u == "adam" else u) for u in USERS}


@dataclass
class As:
    """One user's view of a server: REST with their token, and sockets."""

    server: HubbubServer
    user: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer token-of-{self.user}-0123"}

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.server.url}{path}", headers=self.headers)

    def post(self, path: str, body: object) -> httpx.Response:
        return httpx.post(f"{self.server.url}{path}", json=body, headers=self.headers)

    def patch(self, path: str, body: object) -> httpx.Response:
        return httpx.patch(f"{self.server.url}{path}", json=body, headers=self.headers)

    def delete(self, path: str) -> httpx.Response:
        return httpx.delete(f"{self.server.url}{path}", headers=self.headers)

    def room_names(self, archived: bool = False) -> set[str]:
        response = self.get(f"/api/rooms?archived={str(archived).lower()}")
        assert response.status_code == 200, response.text
        return {room["name"] for room in response.json()}

    async def socket(self) -> ChatClient:
        return await ChatClient.open(f"{self.server.ws_url}/api/ws", additional_headers=self.headers)


def same_as_missing(response: httpx.Response, asked: str, missing: httpx.Response, missing_name: str) -> bool:
    """The answer for a room the caller may not see is the answer for one that does not exist."""
    return response.status_code == missing.status_code and response.text.replace(
        asked, "X"
    ) == missing.text.replace(missing_name, "X")


@pytest.fixture(params=["sqlite-1", "sqlite-2", "postgres-1", "postgres-2"])
async def servers(
    request: pytest.FixtureRequest, hubbub_server: ServerFactory, tmp_path: Path
) -> AsyncIterator[tuple[HubbubServer, HubbubServer]]:
    """(a, b): one server twice, or two workers sharing one history and fanning out through Redis."""
    store, workers = request.param.split("-")
    env = {"HUBBUB_AUTH": "token", "HUBBUB_TOKENS": json.dumps(TOKENS)}
    if workers == "2":
        env["HUBBUB_REDIS_URL"] = request.getfixturevalue("redis_url")

    async def start(url: str | None) -> tuple[HubbubServer, HubbubServer]:
        if url is not None:
            env["HUBBUB_DATABASE_URL"] = url
        shared = tmp_path / "shared"
        a = hubbub_server(env, data_dir=shared)
        return (a, hubbub_server(env, data_dir=shared)) if workers == "2" else (a, a)

    if store == "postgres":
        async with fresh_database(request.getfixturevalue("postgres_url")) as url:
            yield await start(url)
        return
    yield await start(None)
