"""PostgreSQL, for several replicas sharing one history: asyncpg, through SQLAlchemy's asyncpg
dialect. (The LISTEN/NOTIFY broker, broker/postgres.py, talks to asyncpg directly.)"""

from __future__ import annotations

import asyncio

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hubbub.model import StoreUnavailableError
from hubbub.store import schema
from hubbub.store.database import DatabaseStore, P, T, Work
from hubbub.store.dialect import Dialect, PostgresDialect
from hubbub.store.search.postgres import GramIndex

PING_TIMEOUT = 2.0  # seconds: /readyz must answer even when the database does not


def async_url(url: str) -> str:
    """postgres://, postgresql:// or postgresql+asyncpg:// as SQLAlchemy's asyncpg URL."""
    rest = url.split("://", 1)[1]
    return f"postgresql+asyncpg://{rest}"


class PostgresRunner:
    """Each unit of work runs on a pooled connection, in a transaction (writes) or in
    autocommit (reads: one round trip per statement, as asyncpg alone would), through
    AsyncConnection.run_sync."""

    dialect: Dialect = PostgresDialect()

    def __init__(self, url: str) -> None:
        self._url = async_url(url)
        self._engine: AsyncEngine | None = None
        self._reader: AsyncEngine | None = None

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise StoreUnavailableError("store is not started")
        return self._engine

    async def start(self) -> None:
        engine = create_async_engine(self._url, pool_size=5, max_overflow=5)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(schema.upgrade, self.dialect)
        except BaseException:
            await engine.dispose()
            raise
        self._engine = engine
        self._reader = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def close(self) -> None:
        if self._engine is not None:
            engine, self._engine, self._reader = self._engine, None, None
            await engine.dispose()

    async def ping(self) -> None:
        try:
            await asyncio.wait_for(self.read(schema.ping), PING_TIMEOUT)
        except TimeoutError as exc:
            raise StoreUnavailableError("the database did not answer in time") from exc

    async def read(self, work: Work[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        reader = self._reader or self.engine
        try:
            async with reader.connect() as conn:
                return await conn.run_sync(work, *args, **kwargs)
        except (sa_exc.DBAPIError, OSError) as exc:
            raise StoreUnavailableError(str(exc)) from exc

    async def write(self, work: Work[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            async with self.engine.begin() as conn:
                return await conn.run_sync(work, *args, **kwargs)
        except (sa_exc.DBAPIError, OSError) as exc:
            raise StoreUnavailableError(str(exc)) from exc


class PostgresStore(DatabaseStore):
    def __init__(self, url: str) -> None:
        super().__init__(PostgresRunner(url), GramIndex())


async def schema_version(url: str) -> schema.SchemaVersion:
    """The database's schema version, read without changing anything."""
    engine = create_async_engine(async_url(url))
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(schema.version)
    finally:
        await engine.dispose()
