from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from pytest_redis import factories

from tests.services import HubbubServer, SeaweedS3, postgres_server, seaweed_s3

redis_proc = factories.redis_proc(executable="/usr/bin/redis-server", timeout=10)

# Fixtures whose servers a module's tests share: those tests run in one process (pytest-xdist
# --dist loadgroup), the others wherever there is room.
SHARED = {"server", "servers", "module_server"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SHARED & set(getattr(item, "fixturenames", ())) or item.get_closest_marker("reliability"):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_server() as server:
        yield server.url


async def _create_database(server_url: str) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


async def _drop_database(url: str) -> None:
    server_url, name = url.rsplit("/", 1)
    admin = await asyncpg.connect(f"{server_url}/postgres")
    try:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@contextlib.asynccontextmanager
async def fresh_database(server_url: str) -> AsyncIterator[str]:
    """A new empty database on the session's PostgreSQL server; dropped afterwards."""
    url = await _create_database(server_url)
    try:
        yield url
    finally:
        await _drop_database(url)


@contextlib.contextmanager
def fresh_database_sync(server_url: str) -> Iterator[str]:
    """fresh_database for fixtures that are not coroutines (those shared by a module)."""

    def run(coroutine: Any) -> Any:
        with concurrent.futures.ThreadPoolExecutor(1) as thread:  # whatever loop runs here
            return thread.submit(asyncio.run, coroutine).result()

    url = run(_create_database(server_url))
    try:
        yield url
    finally:
        run(_drop_database(url))


@pytest.fixture
async def fresh_postgres(postgres_url: str) -> AsyncIterator[str]:
    async with fresh_database(postgres_url) as url:
        yield url


@pytest.fixture(scope="session")
def redis_url(redis_proc: object) -> str:
    """The session's Redis, shared by every test of the process: each set of servers counts
    its limits and publishes under a channel of its own (Servers), so what one test's servers
    counted there (room creations per address, failed sign-ins) never limits the next, and
    nothing is emptied under a module's shared servers."""
    return f"redis://{redis_proc.host}:{redis_proc.port}/0"  # type: ignore[attr-defined]


ServerFactory = Callable[..., HubbubServer]
# The tests sharing a server all come from one address: what it limits per address (new rooms,
# new members in auth mode none) counts every test at once, so there it is not the limit. A
# test of those limits runs a server of its own (hubbub_server).
SHARED_DEFAULTS = {
    "HUBBUB_ROOM_CREATIONS_PER_MINUTE_PER_ADDRESS": "100000",
    "HUBBUB_NEW_MEMBERS_PER_MINUTE_PER_ADDRESS": "100000",
    # A shared server's users are the same in every test of the module: what their allowances
    # had left would depend on how fast the tests before ran (an edit refused as rate_limited
    # on a quick machine). Tests of the limits start servers of their own.
    "HUBBUB_RATE_LIMIT_BURST": "100000",
    "HUBBUB_JOIN_BURST": "100000",
    "HUBBUB_SEARCHES_PER_MINUTE": "100000",
}


class Servers:
    """Starts `hubbub serve` processes with the given HUBBUB_* environment; stops them all at
    the end of the fixture's scope."""

    def __init__(self, base: Path, defaults: dict[str, str] | None = None) -> None:
        self._base = base
        self._defaults = defaults or {}
        self._started: list[HubbubServer] = []
        # Its servers' Redis keys and broker channel (HUBBUB_BROKER_CHANNEL), shared by them
        # (the workers of a pair talk through it) and by nobody else on the session's Redis.
        self.channel = f"hubbub-{uuid.uuid4().hex[:8]}"

    def __call__(
        self,
        env: dict[str, str] | None = None,
        data_dir: Path | None = None,
        workers: int = 1,
        wait: bool = True,
        args: list[str] | None = None,
        port: int | None = None,
    ) -> HubbubServer:
        server = HubbubServer(
            env={
                "HUBBUB_LOG_LEVEL": "info",
                "HUBBUB_BROKER_CHANNEL": self.channel,
                **self._defaults,
                **(env or {}),
            },
            data_dir=data_dir or self._base / f"data{len(self._started)}",
            workers=workers,
            args=args or [],
            **({"port": port} if port is not None else {}),
        )
        self._started.append(server)
        return server.start(wait=wait)

    def stop_all(self) -> None:
        for server in self._started:
            server.stop()


@pytest.fixture
def hubbub_server(tmp_path: Path) -> Iterator[ServerFactory]:
    """Servers of this test's own: for a test that restarts, stops or breaks its server, or
    needs one configured for it alone."""
    servers = Servers(tmp_path)
    yield servers
    servers.stop_all()


@pytest.fixture(scope="module")
def module_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerFactory]:
    """Servers shared by the tests of one module: each test uses names and rooms of its own,
    and leaves the server as it found it (no restart, no stop)."""
    servers = Servers(tmp_path_factory.mktemp("servers"), SHARED_DEFAULTS)
    yield servers
    servers.stop_all()


@pytest.fixture(scope="module")
def server(module_server: ServerFactory) -> HubbubServer:
    """A server with the embedded defaults (auth none, SQLite, memory broker), shared by the
    module's tests."""
    return module_server()


@pytest.fixture
def fresh_server(hubbub_server: ServerFactory) -> HubbubServer:
    """A server with the embedded defaults for this test alone: for tests of the default room,
    which every plain-text client of /ws/{client_id} is in."""
    return hubbub_server()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[SeaweedS3]:
    """A real S3-compatible server (SeaweedFS) for the session; each user takes a prefix of its
    own in its bucket."""
    with seaweed_s3() as server:
        yield server
