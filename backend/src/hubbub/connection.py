"""One accepted WebSocket: a bounded send queue drained by its own writer task.

Fan-out only ever puts into queues, so a slow or stalled client delays nobody else; past its
queue (in frames or in bytes) it is closed with 4408 and recovers what it missed by resuming
from its last sequence.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from starlette.websockets import WebSocket, WebSocketState

from hubbub import metrics
from hubbub.chat import ChatService
from hubbub.hub import RoomEvent
from hubbub.protocol import encode, message_event
from hubbub.send_queue import SendQueue
from hubbub.store import StoredMessage

log = logging.getLogger("hubbub.connection")

CLOSE_SLOW_CONSUMER = 4408
CATCH_UP_PAGE = 500
# Messages one connection may have waiting for the store: its reader goes on reading while they
# commit, so a busy sender's messages share transactions, and it still cannot queue unbounded work.
POSTS_IN_FLIGHT = 32


@dataclass(frozen=True, slots=True)
class CatchUp:
    """Send the room's stored messages past this connection's cursor (join, resync)."""

    room: str


QueueItem = str | RoomEvent | CatchUp


def queued_size(item: QueueItem) -> int:
    """What an item counts against the size budget: the characters of text it sends (about
    bytes; counting bytes would encode every frame once more). A catch-up pages itself."""
    if isinstance(item, str):
        return len(item)
    if isinstance(item, RoomEvent) and item.frame is not None:
        return len(item.frame)
    return 0


class QueuedSocket:
    """What the JSON and plain-text connections share: the queue, the writer, the way out."""

    def __init__(self, websocket: WebSocket, chat: ChatService, user: str, session_id: str | None):
        self.websocket = websocket
        self.chat = chat
        self.user = user
        self.session_id = session_id
        self.queue: SendQueue[QueueItem] = SendQueue(
            chat.settings.send_queue_size, chat.settings.send_queue_bytes, queued_size
        )
        self.closing = False
        self.peer_gone = False
        self._sent = 0  # frames sent since the counter was last updated
        self._writer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self._posts: set[asyncio.Task[None]] = set()
        self._post_slots = asyncio.Semaphore(POSTS_IN_FLIGHT)

    # --- Subscriber protocol
    def deliver(self, event: RoomEvent) -> None:
        raise NotImplementedError

    def deliver_global(self, frame: str) -> None:
        return None

    def resync(self) -> None:
        return None

    def kick(self, code: int, reason: str) -> None:
        """Close from the server side, once, without waiting on a peer that may be stalled."""
        if self.closing:
            return
        self.closing = True
        log.info("closing connection of %s: %d %s", self.user, code, reason)
        if self._writer is not None:
            self._writer.cancel()
        self._closer = asyncio.create_task(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self.websocket.close(code, reason)

    # --- queue
    def offer(self, item: QueueItem) -> None:
        if self.closing or self.peer_gone:
            return
        if isinstance(item, RoomEvent) and item.droppable and self.queue.half_full():
            return
        if not self.queue.put(item):
            metrics.SLOW_CONSUMERS.inc()
            self.kick(CLOSE_SLOW_CONSUMER, "too slow: send queue full, reconnect to resume")

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
            self.kick(1011, "internal error, reconnect to resume")

    async def send(self, text: str) -> None:
        await self.websocket.send({"type": "websocket.send", "text": text})
        self._sent += 1

    async def write_loop(self) -> None:
        queue = self.queue
        while True:
            item: QueueItem | None = await queue.get()
            # Drain what is already queued before waiting again: under load one wake-up of
            # this task sends many frames, instead of one task switch per frame.
            while item is not None:
                await self.write(item)
                item = queue.get_nowait()
            metrics.FRAMES_SENT.inc(self._sent)
            self._sent = 0

    async def write(self, item: QueueItem) -> None:
        if isinstance(item, str):
            await self.send(item)
        elif isinstance(item, RoomEvent) and item.frame is not None:
            await self.send(item.frame)

    async def serve(self) -> None:
        """Run the writer beside the reader until the peer goes or we close it."""
        self.chat.hub.add(self)
        self._writer = asyncio.create_task(self._guarded_writer(), name="hubbub-writer")
        try:
            await self.read_loop()
            if self._posts:
                # What the peer sent before it left is stored and published before it leaves.
                await asyncio.wait(self._posts)
        finally:
            self.closing = True
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._writer
            self.chat.hub.remove(self)
            await self.on_closed()
            if self._closer is not None:
                with contextlib.suppress(Exception):
                    await self._closer

    async def _guarded_writer(self) -> None:
        try:
            await self.write_loop()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self.websocket.application_state is WebSocketState.CONNECTED and not self.closing:
                log.warning("writer for %s failed: %r", self.user, exc)
                self.kick(1011, "internal error, reconnect to resume")
            else:
                # The peer has gone, but what it sent before going may still be unread: the
                # reader goes on with that; there is just nobody left to write to.
                self.peer_gone = True

    async def read_loop(self) -> None:
        raise NotImplementedError

    async def on_closed(self) -> None:
        return None

    async def receive_text(self) -> str | None:
        """The next text frame; None when the peer has gone. Binary frames are refused."""
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return None
            text = message.get("text")
            if text is not None:
                return str(text)
            await self.on_binary()

    async def on_binary(self) -> None:
        self.kick(1003, "binary frames are not supported")


def stored_frame(message: StoredMessage) -> str:
    return encode(message_event(message))
