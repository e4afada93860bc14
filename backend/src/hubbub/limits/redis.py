"""Redis limiter: every worker and replica on the same Redis counts together."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from hubbub.limits.base import forget_after, lock_seconds

log = logging.getLogger("hubbub.limits")


class RedisLimiter:
    """Failures: a hash per key {n, until} that expires a day (or four locks) after the last
    failure. Actions: a sorted set of the last minute's timestamps per key. Should Redis be
    unreachable, nothing is locked or limited: a Redis outage must not lock everyone out."""

    def __init__(self, url: str, prefix: str, clock: Callable[[], float] = time.time) -> None:
        self._client: aioredis.Redis = aioredis.Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=2
        )
        self._prefix = prefix
        # Wall-clock seconds, the same on every worker: locks and notes say until when they
        # hold, and each worker compares with its own clock. (Redis's own expiries only let
        # go of keys long after they stopped mattering.)
        self._clock = clock

    def _key(self, key: str) -> str:
        return f"{self._prefix}:{key}"

    async def locked_for(self, keys: list[str]) -> float:
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.hget(self._key(key), "until")
                untils = await pipe.execute()
        except RedisError as exc:
            log.warning("limiter unavailable, not limiting: %s", exc)
            return 0.0
        now = self._clock()
        return max([0.0, *(float(until) - now for until in untils if until is not None)])

    async def failed(self, key: str, free: int, max_lock: float) -> float:
        name = self._key(key)
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.hincrby(name, "n", 1)
                pipe.expire(name, int(forget_after(max_lock)))
                failures, _ = await pipe.execute()
            lock = lock_seconds(int(failures), free, max_lock)
            if lock:
                await self._client.hset(name, "until", str(self._clock() + lock))
        except RedisError as exc:
            log.warning("limiter unavailable, failure not counted: %s", exc)
            return 0.0
        return lock

    async def succeeded(self, key: str) -> None:
        try:
            await self._client.delete(self._key(key))
        except RedisError as exc:
            log.warning("limiter unavailable: %s", exc)

    async def remember(self, key: str, seconds: float) -> None:
        until = self._clock() + seconds
        try:
            await self._client.set(self._key(f"note:{key}"), str(until), ex=max(1, int(seconds) + 1))
        except RedisError as exc:
            log.warning("limiter unavailable, not remembered: %s", exc)

    async def remembered(self, key: str) -> bool:
        try:
            until = await self._client.get(self._key(f"note:{key}"))
        except RedisError as exc:
            log.warning("limiter unavailable: %s", exc)
            return False
        return until is not None and float(until) > self._clock()

    async def take(self, key: str, per_minute: float) -> float:
        name = self._key(f"rate:{key}")
        now = self._clock()
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.zremrangebyscore(name, 0, now - 60)
                pipe.zrange(name, 0, 0, withscores=True)
                pipe.zcard(name)
                _, oldest, count = await pipe.execute()
            if count >= per_minute:
                return max(0.0, float(oldest[0][1]) + 60 - now) if oldest else 60.0
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.zadd(name, {uuid.uuid4().hex: now})
                pipe.expire(name, 60)
                await pipe.execute()
        except RedisError as exc:
            log.warning("limiter unavailable, not limiting: %s", exc)
        return 0.0

    async def close(self) -> None:
        await self._client.aclose()
