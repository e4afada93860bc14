"""One accepted WebSocket's way out: a bounded send queue drained by its own writer task,
posts in flight beside the reader, and a close from the server side that never waits on a
stalled peer. Sessions (JSON chat, plain text) each own one and tell it how to read and write.

Fan-out only ever puts into queues, so a slow or stalled client delays nobody else; past its
queue (in frames or in bytes) it is closed with 4408 and recovers what it missed by resuming
from its last sequence.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from hubbub import metrics
from hubbub.chat.hub import RoomEvent, Subscriber
from hubbub.chat.sequencer import CatchUp
from hubbub.contract.close import REASONS, Close, reason_text
from hubbub.settings import Settings

if TYPE_CHECKING:
    from hubbub.chat.service import ChatService
from hubbub.transport.base import Transport
from hubbub.transport.send_queue import SendQueue

log = logging.getLogger("hubbub.connection")

# Messages one connection may have waiting for the store: its reader goes on reading while they
# commit, so a busy sender's messages share transactions, and it still cannot queue unbounded work.
POSTS_IN_FLIGHT = 32

QueueItem = str | RoomEvent | CatchUp
Writer = Callable[[QueueItem], Awaitable[None]]


def queued_size(item: QueueItem) -> int:
    """What an item counts against the size budget: the characters of text it sends (about
    bytes; counting bytes would encode every frame once more). A catch-up pages itself."""
    if isinstance(item, str):
        return len(item)
    if isinstance(item, RoomEvent) and item.frame is not None:
        return len(item.frame)
    return 0


class Connection:
    __slots__ = (
        "_closer",
        "_expiry",
        "_post_slots",
        "_posts",
        "_sent",
        "_writer",
        "closing",
        "peer_gone",
        "queue",
        "transport",
        "user",
    )

    def __init__(
        self, transport: Transport, user: str, settings: Settings, expires_at: float | None = None
    ) -> None:
        self.transport = transport
        self.user = user
        # A session or a token that expires takes its sockets with it, then and there.
        self._expiry = (
            None
            if expires_at is None
            else asyncio.get_running_loop().call_later(
                max(0.0, expires_at - time.time()), self.kick, Close.UNAUTHORIZED, "session expired"
            )
        )
        self.queue: SendQueue[QueueItem] = SendQueue(
            settings.send_queue_size, settings.send_queue_bytes, queued_size
        )
        self.closing = False
        self.peer_gone = False
        self._sent = 0  # frames sent since the counter was last updated
        self._writer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self._posts: set[asyncio.Task[None]] = set()
        self._post_slots = asyncio.Semaphore(POSTS_IN_FLIGHT)

    # --- out
    def offer(self, item: QueueItem) -> None:
        if self.closing or self.peer_gone:
            return
        if isinstance(item, RoomEvent) and item.droppable and self.queue.half_full():
            return
        if not self.queue.put(item):
            metrics.SLOW_CONSUMERS.inc()
            self.kick(Close.SLOW_CONSUMER)

    async def send(self, text: str) -> None:
        await self.transport.send(text)
        self._sent += 1

    def kick(self, code: Close, reason: str | None = None) -> None:
        """Close from the server side, once, without waiting on a peer that may be stalled."""
        if self.closing:
            return
        self.closing = True
        text = reason_text(reason if reason is not None else REASONS[code])
        log.info("closing connection of %s: %d %s", self.user, code, text)
        if self._writer is not None:
            self._writer.cancel()
        self._closer = asyncio.create_task(self._close(code, text))

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self.transport.close(code, reason)

    # --- in
    async def start_post(self, post: Coroutine[Any, Any, None]) -> None:
        """Run a post beside the reader; waits while POSTS_IN_FLIGHT are pending.

        Posts complete in the order they started: the store commits them in that order."""
        await self._post_slots.acquire()
        task = asyncio.create_task(post, name="hubbub-post")
        self._posts.add(task)
        task.add_done_callback(self._post_done)

    def _post_done(self, task: asyncio.Task[None]) -> None:
        self._posts.discard(task)
        self._post_slots.release()
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("post for %s failed", self.user, exc_info=exc)
            self.kick(Close.INTERNAL_ERROR)

    # --- the whole life of it
    async def serve(
        self,
        chat: ChatService,
        subscriber: Subscriber,
        read_loop: Callable[[], Awaitable[None]],
        write: Writer,
    ) -> None:
        """Be one of the chat's connections, the writer running beside the reader, until the
        peer goes or the server closes it."""
        chat.connect(subscriber)
        self._writer = asyncio.create_task(self._guarded_writer(write), name="hubbub-writer")
        try:
            await read_loop()
            if self._posts:
                # What the peer sent before it left is stored and published before it leaves.
                await asyncio.wait(self._posts)
        finally:
            self.closing = True
            if self._expiry is not None:
                self._expiry.cancel()
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._writer
            chat.disconnect(subscriber)

    async def closed(self) -> None:
        """Wait for a close the server started to finish."""
        if self._closer is not None:
            with contextlib.suppress(Exception):
                await self._closer

    async def _guarded_writer(self, write: Writer) -> None:
        queue = self.queue
        try:
            while True:
                item: QueueItem | None = await queue.get()
                # Drain what is already queued before waiting again: under load one wake-up of
                # this task sends many frames, instead of one task switch per frame.
                while item is not None:
                    await write(item)
                    item = queue.get_nowait()
                metrics.FRAMES_SENT.inc(self._sent)
                self._sent = 0
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self.transport.connected and not self.closing:
                log.warning("writer for %s failed: %r", self.user, exc)
                self.kick(Close.INTERNAL_ERROR)
            else:
                # The peer has gone, but what it sent before going may still be unread: the
                # reader goes on with that; there is just nobody left to write to.
                self.peer_gone = True
