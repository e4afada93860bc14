"""People of the room tests: users with tokens (adam an admin), each user's view of a server,
and servers in every configuration (one store or the other, one worker or two)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.client import ChatClient
from tests.conftest import ServerFactory, fresh_database_sync
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


CONFIGURATIONS = ["sqlite-1", "sqlite-2", "postgres-1", "postgres-2"]


@pytest.fixture(scope="module", params=CONFIGURATIONS)
def servers(
    request: pytest.FixtureRequest, module_server: ServerFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[HubbubServer, HubbubServer]]:
    """(a, b): one server twice, or two workers sharing one history and fanning out through
    Redis; SQLite or PostgreSQL. Shared by a module's tests: each uses rooms of its own. A test
    that is not about stores or workers asks for fewer configurations:
    ``@pytest.mark.parametrize("servers", ["sqlite-1"], indirect=True)``."""
    store, workers = request.param.split("-")
    env = {"HUBBUB_AUTH": "token", "HUBBUB_TOKENS": json.dumps(TOKENS)}
    if workers == "2":
        env["HUBBUB_REDIS_URL"] = request.getfixturevalue("redis_url")
    with contextlib.ExitStack() as stack:
        if store == "postgres":
            env["HUBBUB_DATABASE_URL"] = stack.enter_context(
                fresh_database_sync(request.getfixturevalue("postgres_url"))
            )
        shared = tmp_path_factory.mktemp(request.param)
        a = module_server(env, data_dir=shared)
        yield (a, module_server(env, data_dir=shared)) if workers == "2" else (a, a)
