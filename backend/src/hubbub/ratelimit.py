"""Token buckets: a steady rate with room for short bursts; one each, or one per key."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    __slots__ = ("_burst", "_clock", "_rate", "_tokens", "_updated")

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._clock = clock
        self._updated = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
        self._updated = now

    def try_take(self) -> float:
        """Take one token; returns 0 on success, else the seconds until one is available."""
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self._rate

    def full(self) -> bool:
        """Refilled to its burst: as good as a new one."""
        self._refill()
        return self._tokens >= self._burst


class Allowances:
    """A bucket per key (a user), shared by everything that spends under that key: a user's
    sockets share one allowance however many they open. Per process: each worker counts its
    own. A bucket that has refilled is as good as none, so once there are many, full ones are
    let go (a key that comes back gets a full one, as it would have had)."""

    __slots__ = ("_buckets", "_burst", "_clock", "_rate", "_scan_at")

    def __init__(
        self, rate: float, burst: int, keep: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._scan_at = keep

    def take(self, key: str) -> float:
        """Take one token of the key's; 0 on success, else the seconds until one is available."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._scan_at:
                self._forget_full()
            bucket = self._buckets[key] = TokenBucket(self._rate, self._burst, self._clock)
        return bucket.try_take()

    def _forget_full(self) -> None:
        for key in [key for key, bucket in self._buckets.items() if bucket.full()]:
            del self._buckets[key]
        # Many keys busy at once: scan again only when there are twice as many.
        self._scan_at = max(self._scan_at, 2 * len(self._buckets))
