"""PostgreSQL LISTEN/NOTIFY broker (asyncpg), for deployments that have PostgreSQL but no Redis."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg

from hubbub.broker.base import BrokerUnavailableError, PayloadHandler, ReconnectHandler

log = logging.getLogger("hubbub.broker.postgres")

RETRY_MIN_SECONDS = 0.1
RETRY_MAX_SECONDS = 5.0


class PostgresBroker:
    # NOTIFY payloads must stay below 8000 bytes; larger events travel as references.
    max_payload: int | None = 7900

    def __init__(self, url: str, channel: str) -> None:
        self._url = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self._channel = channel
        self._listen_conn: asyncpg.Connection | None = None
        self._pool: asyncpg.Pool | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()
        self._listening = asyncio.Event()

    async def start(self, on_payload: PayloadHandler, on_reconnect: ReconnectHandler) -> None:
        self._supervisor = asyncio.create_task(
            self._supervise(on_payload, on_reconnect), name="hubbub-pg-listener"
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), timeout=5)

    async def _supervise(self, on_payload: PayloadHandler, on_reconnect: ReconnectHandler) -> None:
        def listener(_conn: Any, _pid: int, _channel: str, payload: object) -> None:
            on_payload(str(payload))

        def terminated(_conn: Any) -> None:
            self._lost.set()

        delay = RETRY_MIN_SECONDS
        first = True
        while True:
            try:
                conn = await asyncpg.connect(self._url, timeout=5)
                conn.add_termination_listener(terminated)
                await conn.add_listener(self._channel, listener)
                self._listen_conn = conn
                self._lost.clear()
                self._listening.set()
                if not first:
                    log.warning("postgres broker listening again on %s", self._channel)
                    on_reconnect()
                first = False
                delay = RETRY_MIN_SECONDS
                await self._lost.wait()
                log.warning("postgres broker lost its LISTEN connection")
            except asyncio.CancelledError:
                raise
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                log.warning("postgres broker cannot listen (%s); retrying in %.1fs", exc, delay)
                first = False
            self._listening.clear()
            if self._listen_conn is not None:
                self._listen_conn.terminate()
                self._listen_conn = None
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_SECONDS)

    async def _get_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            self._pool = await asyncpg.create_pool(self._url, min_size=1, max_size=4, timeout=5)
        return self._pool

    async def publish(self, payload: str) -> None:
        try:
            pool = await self._get_pool()
            await pool.execute("SELECT pg_notify($1, $2)", self._channel, payload)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
            raise BrokerUnavailableError(f"postgres NOTIFY failed: {exc}") from exc

    async def ping(self) -> None:
        if not self._listening.is_set():
            raise BrokerUnavailableError("postgres LISTEN connection is not established")

    async def close(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        if self._listen_conn is not None:
            await self._listen_conn.close()
        if self._pool is not None:
            await self._pool.close()
