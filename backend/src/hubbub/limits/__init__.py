"""Counters that slow abuse down, shared by the workers that share a backend: failures that
lock a key out for a while (login throttling) and actions per minute (room creation)."""

from __future__ import annotations

from hubbub.limits.base import Limiter, lock_seconds
from hubbub.settings import Settings

__all__ = ["Limiter", "create_limiter", "lock_seconds"]


def create_limiter(settings: Settings) -> Limiter:
    """Redis when the broker is Redis (so every worker and replica counts together), else this
    process's memory."""
    url = settings.effective_broker_url
    if url.split("://", 1)[0] in {"redis", "rediss", "unix"}:
        from hubbub.limits.redis import RedisLimiter

        return RedisLimiter(url, prefix=f"{settings.broker_channel}:limits")
    from hubbub.limits.memory import MemoryLimiter

    return MemoryLimiter()
