"""What every limiter does; one module per implementation."""

from __future__ import annotations

from typing import Protocol


def lock_seconds(failures: int, free: int, max_lock: float) -> float:
    """How long a key is locked after its ``failures``-th failure: not at all for the first
    ``free - 1``, then 1 s, doubling with each further failure, never more than ``max_lock``."""
    if failures < free:
        return 0.0
    return float(min(max_lock, 2 ** min(failures - free, 30)))


class Limiter(Protocol):
    """Keys are opaque strings. Every count forgets itself after a while without news, so a
    key that an attacker used and left costs nothing for long."""

    async def locked_for(self, keys: list[str]) -> float:
        """Seconds until none of the keys is locked; 0 when none is."""
        ...

    async def failed(self, key: str, free: int, max_lock: float) -> float:
        """Count a failure for the key; returns how long it is now locked (see lock_seconds).
        Counting forgets the key once it has seen no failure for a day or four locks."""
        ...

    async def succeeded(self, key: str) -> None:
        """Forget the key's failures."""
        ...

    async def remember(self, key: str, seconds: float) -> None:
        """Note the key for ``seconds`` (something that went well: a name that signed in from
        an address)."""
        ...

    async def remembered(self, key: str) -> bool:
        """Whether the key was noted and its time has not run out."""
        ...

    async def take(self, key: str, per_minute: float) -> float:
        """Count one action; 0 when it is within ``per_minute`` over the last minute, else the
        seconds until it would be (the action is then not counted)."""
        ...

    async def close(self) -> None: ...


def forget_after(max_lock: float) -> float:
    """How long a key's failure count lives without a new failure."""
    return max(86_400.0, 4 * max_lock)
