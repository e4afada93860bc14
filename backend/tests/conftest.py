from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
import redis
from pytest_redis import factories

from tests.services import HubbubServer, postgres_server

redis_proc = factories.redis_proc(executable="/usr/bin/redis-server", timeout=10)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_server() as server:
        yield server.url


@contextlib.asynccontextmanager
async def fresh_database(server_url: str) -> AsyncIterator[str]:
    """A new empty database on the session's PostgreSQL server; dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    try:
        yield server_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin = await asyncpg.connect(server_url)
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def fresh_postgres(postgres_url: str) -> AsyncIterator[str]:
    async with fresh_database(postgres_url) as url:
        yield url


@pytest.fixture
def redis_url(redis_proc: object) -> str:
    """The session's Redis, emptied for each test: what one test's servers counted there (the
    limits: room creations per user and per address, failed sign-ins) must not limit the next."""
    url = f"redis://{redis_proc.host}:{redis_proc.port}/0"  # type: ignore[attr-defined]
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


ServerFactory = Callable[..., HubbubServer]


@pytest.fixture
def hubbub_server(tmp_path: Path) -> Iterator[ServerFactory]:
    """Starts `hubbub serve` processes with the given HUBBUB_* environment; stops them after."""
    servers: list[HubbubServer] = []

    def start(
        env: dict[str, str] | None = None,
        data_dir: Path | None = None,
        workers: int = 1,
        wait: bool = True,
        args: list[str] | None = None,
    ) -> HubbubServer:
        server = HubbubServer(
            env={"HUBBUB_LOG_LEVEL": "info", **(env or {})},
            data_dir=data_dir or tmp_path / f"data{len(servers)}",
            workers=workers,
            args=args or [],
        )
        servers.append(server)
        return server.start(wait=wait)

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def server(hubbub_server: ServerFactory) -> HubbubServer:
    """A server with the embedded defaults: auth none, SQLite, memory broker."""
    return hubbub_server()
