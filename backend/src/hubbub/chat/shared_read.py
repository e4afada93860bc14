"""One read for many callers: those who ask while a read is under way share the next one.

A reconnect wave asks for the same thing (every public room) thousands of times a second. Each
caller is answered by a read that began after it asked, so what it wrote before asking is in
the answer, as if it had read alone; callers that ask during one read share the one after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SharedRead(Generic[T]):
    def __init__(self, read: Callable[[], Awaitable[T]]) -> None:
        self._read = read
        self._running: asyncio.Task[None] | None = None
        self._next: asyncio.Future[T] | None = None  # the read that starts after the running one

    async def get(self) -> T:
        waiting = self._next
        if waiting is None:
            waiting = self._next = asyncio.get_running_loop().create_future()
            # Nobody waits on an error if every caller was cancelled: it is retrieved here.
            waiting.add_done_callback(lambda f: f.cancelled() or f.exception())
            if self._running is None:
                self._start()
        # Shielded: a caller that gives up does not cancel the read for the others.
        return await asyncio.shield(waiting)

    def _start(self) -> None:
        future, self._next = self._next, None
        assert future is not None
        self._running = asyncio.get_running_loop().create_task(self._run(future))

    async def _run(self, future: asyncio.Future[T]) -> None:
        try:
            result = await self._read()
        except Exception as exc:
            if not future.done():
                future.set_exception(exc)
        else:
            if not future.done():
                future.set_result(result)
        finally:
            self._running = None
            if self._next is not None:
                self._start()
