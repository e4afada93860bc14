"""When the next batch of notices (presence, membership) may go out.

Notices about a room go to every subscriber of it on this worker, so a batch costs one write
per subscriber of each room it is about, however few changes it carries. Gathering changes
over a short window makes a burst cost one batch, not one per change; pacing by what the last
batch cost keeps a wave of reconnects from spending the worker on telling people about each
other: after a batch of n writes, the next waits n / per_second seconds (at most ``most``),
so notices take at most per_second writes a second, on average, however large the rooms.
"""

from __future__ import annotations

import time
from collections.abc import Callable

WINDOW = 0.1  # seconds: changes within it go out together
WRITES_PER_SECOND = 20_000  # notices' share of a worker: about a tenth of a core, at most
MOST_DELAY = 5.0  # seconds: a notice is never held back longer


class Pacer:
    def __init__(
        self,
        window: float = WINDOW,
        per_second: float = WRITES_PER_SECOND,
        most: float = MOST_DELAY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._window = window
        self._per_second = per_second
        self._most = most
        self._clock = clock
        self._not_before = 0.0

    def delay(self) -> float:
        """How long the batch that starts gathering now waits before it goes."""
        return max(self._window, min(self._most, self._not_before - self._clock()))

    def spent(self, writes: int) -> None:
        """A batch just went, costing this many writes."""
        self._not_before = self._clock() + min(self._most, writes / self._per_second)
