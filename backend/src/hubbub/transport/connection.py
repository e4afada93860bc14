"""One accepted WebSocket's way out: frames written at once while the socket has room, else a
bounded send queue drained by a writer task; posts in flight beside the reader; and a close
from the server side that never waits on a stalled peer. Sessions (JSON chat, plain text) each
own one and tell it how to write an item now and how to write one that has to wait.

Fan-out never waits on a connection. An item offered to a connection with nothing pending is
written at once if the session can (its bytes go straight to the socket, see ws_protocol.py);
an item that cannot go at once (the socket's buffer is full, a gap has to be filled from the
store, a catch-up) starts the queue, and everything after it queues behind it until the writer
has sent it all, so the order on the wire is the order of offers, whichever way each went.
Past its queue (in frames or in bytes) a connection is closed with 4408 and recovers what it
missed by resuming from its last sequence.

A connection with nothing pending holds no queue, no writer task and no post slots: an idle
connection costs only what it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol

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


class Session(Subscriber, Protocol):
    """What a connection serves: the JSON chat, the tutorial's plain text, its echoes."""

    async def start(self) -> None:
        """The connection is one of the chat's: say hello, enter the room, ..."""
        ...

    async def handle(self, text: str) -> None:
        """One text frame from the peer; the next waits until this returns."""
        ...

    def on_binary(self) -> None: ...

    async def end(self) -> None:
        """The connection is over and out of the chat: what is left to do."""
        ...


Writer = Callable[[QueueItem], Awaitable[None]]
# Writes the item now if it can without waiting; True when it is done with (sent, or dropped).
WriteNow = Callable[[QueueItem], bool]


def queued_size(item: QueueItem) -> int:
    """What an item counts against the size budget: the characters of text it sends (about
    bytes; counting bytes would encode every frame once more). A catch-up pages itself."""
    if isinstance(item, str):
        return len(item)
    if isinstance(item, RoomEvent):
        text = item.frame if item.frame is not None else item.text
        return 0 if text is None else len(text)
    return 0


async def _write_nothing(item: QueueItem) -> None:
    return None


def _write_nothing_now(item: QueueItem) -> bool:
    return True


class Connection:
    __slots__ = (
        "_chat",
        "_closer",
        "_ended",
        "_expiry",
        "_gone",
        "_inbox",
        "_kind",
        "_max_items",
        "_max_size",
        "_post_waiters",
        "_posts",
        "_reader",
        "_session",
        "_write",
        "_write_now",
        "_writer",
        "closing",
        "peer_gone",
        "queue",
        "transport",
        "user",
    )

    def __init__(
        self,
        transport: Transport,
        user: str,
        settings: Settings,
        expires_at: float | None,
        write: Writer,
        write_now: WriteNow,
    ) -> None:
        self.transport = transport
        self.user = user
        self._write = write
        self._write_now = write_now
        # A session or a token that expires takes its sockets with it, then and there.
        self._expiry = (
            None
            if expires_at is None
            else asyncio.get_running_loop().call_later(
                max(0.0, expires_at - time.time()), self.kick, Close.UNAUTHORIZED, "session expired"
            )
        )
        self._max_items = settings.send_queue_size
        self._max_size = settings.send_queue_bytes
        # Made when the first item has to wait, and let go when the writer has sent it all.
        self.queue: SendQueue[QueueItem] | None = None
        self._writer: asyncio.Task[None] | None = None
        self.closing = False
        self.peer_gone = False
        self._closer: asyncio.Task[None] | None = None
        self._posts: set[asyncio.Task[None]] | None = None
        self._post_waiters: deque[asyncio.Future[None]] | None = None
        # What serve() is given; the reading side of a connection whose frames are pushed.
        self._chat: ChatService | None = None
        self._session: Session | None = None
        self._kind = ""
        self._inbox: deque[str | None] | None = None  # None: a binary frame
        self._reader: asyncio.Task[None] | None = None
        self._gone = self._ended = False

    # --- out
    def offer(self, item: QueueItem) -> None:
        if self.closing or self.peer_gone:
            return
        queue = self.queue
        if queue is None:
            if self._write_now(item):
                return
            queue = self.queue = SendQueue(self._max_items, self._max_size, queued_size)
        elif isinstance(item, RoomEvent) and item.droppable and queue.half_full():
            return
        if not queue.put(item):
            metrics.SLOW_CONSUMERS.inc()
            self.kick(Close.SLOW_CONSUMER)
            return
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain(queue), name="hubbub-writer")

    async def send(self, text: str) -> None:
        """For sessions' write: a frame that may wait for the socket to have room."""
        await self.transport.send(text)
        metrics.FRAMES_QUEUED.inc()

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
        while self._posts is not None and len(self._posts) >= POSTS_IN_FLIGHT:
            if self._post_waiters is None:
                self._post_waiters = deque()
            waiter = asyncio.get_running_loop().create_future()
            self._post_waiters.append(waiter)
            await waiter
        if self._posts is None:
            self._posts = set()
        task = asyncio.create_task(post, name="hubbub-post")
        self._posts.add(task)
        task.add_done_callback(self._post_done)

    def _post_done(self, task: asyncio.Task[None]) -> None:
        posts = self._posts
        assert posts is not None
        posts.discard(task)
        if self._post_waiters:
            waiter = self._post_waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
        if not posts and not self._post_waiters:
            self._posts = self._post_waiters = None
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("post for %s failed", self.user, exc_info=exc)
            self.kick(Close.INTERNAL_ERROR)

    # --- the whole life of it
    async def serve(self, chat: ChatService, session: Session, kind: str) -> None:
        """Be one of the chat's connections until the peer goes or the server closes it.

        Over a transport that pushes frames (one the protocol handed over, ws_protocol.py),
        this returns as soon as the session has started: frames then come to ``received``
        and the end to ``gone``, and nothing waits on the socket in between. Otherwise it
        reads the frames itself until the end."""
        metrics.CONNECTIONS.labels(kind).inc()
        chat.begun()
        self._chat, self._session, self._kind = chat, session, kind
        chat.connect(session)
        try:
            await session.start()
        except BaseException:
            await self._end()
            raise
        if self.transport.hand_over(self):
            return
        try:
            while (
                not self.closing
                and (text := await self.transport.receive_text(session.on_binary)) is not None
            ):
                await session.handle(text)
        finally:
            await self._end()

    # --- frames pushed by the transport (transport/base.py Receiver)
    def received(self, text: str) -> None:
        self._take(text)

    def received_binary(self) -> None:
        self._take(None)

    def gone(self) -> None:
        if not self._gone:
            self._gone = True
            if self._reader is None:
                self._reader = asyncio.create_task(self._read(), name="hubbub-reader")

    def _take(self, item: str | None) -> None:
        if self.closing or self._gone:
            return
        if self._inbox is None:
            self._inbox = deque()
        self._inbox.append(item)
        if self._reader is None:
            self._reader = asyncio.create_task(self._read(), name="hubbub-reader")

    async def _read(self) -> None:
        """What came in, one frame at a time, as the read loop would; then the transport reads
        on (or, the connection over, the end). Made while something is there to read: an idle
        connection holds no task."""
        session = self._session
        assert session is not None
        try:
            while self._inbox and not self.closing:
                item = self._inbox.popleft()
                if item is None:
                    session.on_binary()
                else:
                    await session.handle(item)
        except Exception:
            log.exception("reading from %s failed", self.user)
            self.kick(Close.INTERNAL_ERROR)
        self._inbox = None
        self._reader = None
        if self._gone or self.closing:
            await self._end()
        else:
            self.transport.resume_reading()

    async def _end(self) -> None:
        if self._ended:
            return
        self._ended = True
        chat, session = self._chat, self._session
        assert chat is not None
        assert session is not None
        try:
            if self._posts:
                # What the peer sent before it left is stored and published before it leaves.
                await asyncio.wait(self._posts)
        finally:
            self.closing = True
            if self._expiry is not None:
                self._expiry.cancel()
            if (writer := self._writer) is not None:
                writer.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await writer
            chat.disconnect(session)
            # The session's methods hold the session, which holds this: let go of them so the
            # two are freed as soon as the session is, not at the next cycle collection.
            self._write, self._write_now = _write_nothing, _write_nothing_now
            self._session = None
            try:
                await session.end()
            finally:
                await self.closed()
                metrics.CONNECTIONS.labels(self._kind).dec()
                chat.ended()

    async def closed(self) -> None:
        """Wait for a close the server started to finish."""
        if self._closer is not None:
            with contextlib.suppress(Exception):
                await self._closer

    async def _drain(self, queue: SendQueue[QueueItem]) -> None:
        """Send what is queued, in order, then go: the next item finds the way clear again.

        Each item is first tried the quick way, so a queue formed behind a full socket or a
        gap fill goes back to direct writes as soon as those are possible."""
        try:
            while (item := queue.get_nowait()) is not None:
                if not self._write_now(item):
                    await self._write(item)
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
        finally:
            # No await between the queue found empty and this: an offer in between is not
            # possible, so nothing is left behind in a queue without a writer.
            if self._writer is asyncio.current_task():
                self._writer = None
                self.queue = None
