"""Redis pub/sub broker (redis-py asyncio). Reconnects and re-subscribes after Redis restarts."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from hubbub.broker.base import BrokerUnavailableError, PayloadHandler, ReconnectHandler

log = logging.getLogger("hubbub.broker.redis")

RETRY_MIN_SECONDS = 0.1
RETRY_MAX_SECONDS = 5.0


class RedisBroker:
    max_payload: int | None = None

    def __init__(self, url: str, channel: str) -> None:
        self._url = url
        self._channel = channel
        self._client: aioredis.Redis = aioredis.Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=10
        )
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def start(self, on_payload: PayloadHandler, on_reconnect: ReconnectHandler) -> None:
        self._listener = asyncio.create_task(
            self._listen(on_payload, on_reconnect), name="hubbub-redis-listener"
        )
        # Startup waits for the first subscription so no message of this worker's is missed, but
        # a Redis that is down at start must not keep the server from starting: it will catch up.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), timeout=5)

    async def _listen(self, on_payload: PayloadHandler, on_reconnect: ReconnectHandler) -> None:
        delay = RETRY_MIN_SECONDS
        first = True
        while True:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                self._subscribed.set()
                if not first:
                    log.warning("redis broker re-subscribed to %s", self._channel)
                    on_reconnect()
                first = False
                delay = RETRY_MIN_SECONDS
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is None or message.get("type") != "message":
                        continue
                    data = message["data"]
                    on_payload(data.decode() if isinstance(data, bytes) else str(data))
            except asyncio.CancelledError:
                raise
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                self._subscribed.clear()
                log.warning("redis broker lost its subscription (%s); retrying in %.1fs", exc, delay)
                first = False
            except Exception:
                self._subscribed.clear()
                log.exception("redis broker listener failed; retrying in %.1fs", delay)
                first = False
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_SECONDS)

    async def publish(self, payload: str) -> None:
        try:
            await self._client.publish(self._channel, payload)
        except RedisError as exc:
            raise BrokerUnavailableError(f"redis publish failed: {exc}") from exc

    async def ping(self) -> None:
        try:
            await self._client.ping()
        except RedisError as exc:
            raise BrokerUnavailableError(f"redis ping failed: {exc}") from exc
        if not self._subscribed.is_set():
            raise BrokerUnavailableError("redis subscription is not established")

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._client.aclose()
