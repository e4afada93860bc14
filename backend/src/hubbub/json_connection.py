"""A connection speaking the JSON chat protocol (docs/protocol.md)."""

from __future__ import annotations

import logging
import time

from starlette.websockets import WebSocket

from hubbub import metrics
from hubbub.chat import ChatService
from hubbub.connection import CATCH_UP_PAGE, CatchUp, QueuedSocket, QueueItem, stored_frame
from hubbub.hub import RoomEvent
from hubbub.protocol import (
    Join,
    Leave,
    ProtocolError,
    Send,
    Typing,
    encode,
    error_event,
    parse_command,
)
from hubbub.ratelimit import TokenBucket
from hubbub.store import MessageRejectedError, StoreUnavailableError, UnknownRoomError

log = logging.getLogger("hubbub.protocol")

CLOSE_HISTORY_UNAVAILABLE = 1011
TYPING_MIN_INTERVAL = 1.0  # seconds: typing notices faster than this are dropped, not errors


class JsonConnection(QueuedSocket):
    def __init__(self, websocket: WebSocket, chat: ChatService, user: str, session_id: str | None):
        super().__init__(websocket, chat, user, session_id)
        # room -> sequence number of the last message this client has been sent
        self.cursors: dict[str, int] = {}
        settings = chat.settings
        self._bucket = TokenBucket(settings.rate_limit_per_second, settings.rate_limit_burst)
        self._last_typing: dict[str, float] = {}

    # --- Subscriber protocol
    def deliver(self, event: RoomEvent) -> None:
        if event.frame is not None:
            self.offer(event)

    def deliver_global(self, frame: str) -> None:
        self.offer(frame)

    def resync(self) -> None:
        for room in self.cursors:
            self.offer(CatchUp(room))

    # --- writer: keeps each room's messages gapless, ordered and free of duplicates
    async def write(self, item: QueueItem) -> None:
        if isinstance(item, CatchUp):
            await self._catch_up(item.room, upto=None)
        elif isinstance(item, RoomEvent) and item.seq is not None:
            cursor = self.cursors.get(item.room)
            if cursor is None or item.seq <= cursor:
                return  # left the room, or already sent by a catch-up
            if item.seq > cursor + 1:
                # Workers publish concurrently, so messages can arrive out of order, and a
                # broker can drop some: fill the gap from the store, where they already are.
                await self._catch_up(item.room, upto=item.seq - 1)
            if item.room in self.cursors and item.frame is not None:
                await self.send(item.frame)
                self.cursors[item.room] = item.seq
        else:
            await super().write(item)

    async def _catch_up(self, room: str, upto: int | None) -> None:
        while room in self.cursors:
            cursor = self.cursors[room]
            try:
                page = await self.chat.store.after(room, cursor, CATCH_UP_PAGE)
            except Exception as exc:
                metrics.STORE_ERRORS.inc()
                log.warning("history unavailable for %s in %s: %r", self.user, room, exc)
                # Sending later messages over a hole would lose the ones in it: let the client
                # reconnect and resume from its cursor instead.
                self.kick(CLOSE_HISTORY_UNAVAILABLE, "history unavailable, reconnect to resume")
                return
            for message in page:
                if upto is not None and message.seq > upto:
                    return
                await self.send(stored_frame(message))
                self.cursors[room] = message.seq
            if len(page) < CATCH_UP_PAGE:
                return

    # --- reader
    async def read_loop(self) -> None:
        settings = self.chat.settings
        self.offer(
            encode(
                {
                    "type": "hello",
                    "user": self.user,
                    "default_room": settings.default_room,
                    "max_message_bytes": settings.max_message_bytes,
                }
            )
        )
        while (text := await self.receive_text()) is not None:
            try:
                command = parse_command(text)
                if isinstance(command, Send):
                    await self._send(command)
                elif isinstance(command, Join):
                    await self._join(command)
                elif isinstance(command, Leave):
                    await self._leave(command.room)
                elif isinstance(command, Typing):
                    await self._typing(command)
            except ProtocolError as exc:
                self._error(exc.code, exc.message)

    def _error(self, code: str, message: str, **extra: object) -> None:
        metrics.CLIENT_ERRORS.labels(code).inc()
        log.info("error for %s: %s %s", self.user, code, message)
        self.offer(error_event(code, message, **extra))

    async def _join(self, command: Join) -> None:
        settings = self.chat.settings
        try:
            head = await self.chat.store.room_head(command.room)
        except Exception:
            metrics.STORE_ERRORS.inc()
            raise ProtocolError("store_unavailable", "history is unavailable; try again") from None
        if head is None:
            raise ProtocolError("unknown_room", f"no room named {command.room!r}")
        if command.after is None:
            cursor = max(0, head - settings.history_page_size)
        else:
            cursor = min(command.after, head)
        truncated = head - cursor > settings.resume_max_messages
        if truncated:
            cursor = head - settings.resume_max_messages
        rejoin = command.room in self.cursors
        self.cursors[command.room] = cursor
        if not rejoin:
            # Before subscribing: the others hear of the join, this client gets the list below.
            self.chat.join_presence(command.room, self.user)
        self.chat.hub.subscribe(command.room, self)
        self.offer(
            encode(
                {
                    "type": "joined",
                    "room": command.room,
                    "head": head,
                    "from": cursor,
                    "truncated": truncated,
                    "users": self.chat.presence.users(command.room),
                }
            )
        )
        self.offer(CatchUp(command.room))

    async def _leave(self, room: str) -> None:
        if self.cursors.pop(room, None) is None:
            raise ProtocolError("not_joined", f"not in room {room!r}")
        self.chat.hub.unsubscribe(room, self)
        self.chat.leave_presence(room, self.user)
        self.offer(encode({"type": "left", "room": room}))

    async def _send(self, command: Send) -> None:
        ref = command.client_msg_id
        if command.room not in self.cursors:
            raise ProtocolError("not_joined", f"join {command.room!r} before sending to it")
        if len(command.body.encode()) > self.chat.settings.max_message_bytes:
            self._error("too_large", "message body is too large", ref=ref)
            return
        wait = self._bucket.try_take()
        if wait:
            self._error("rate_limited", "too many messages; slow down", ref=ref, retry_after=wait)
            return
        await self.start_post(self._post(command))

    async def _post(self, command: Send) -> None:
        ref = command.client_msg_id
        try:
            message, created = await self.chat.post(command.room, self.user, command.body, ref)
        except UnknownRoomError:
            self._error("unknown_room", f"no room named {command.room!r}", ref=ref)
            return
        except MessageRejectedError as exc:
            log.warning("message of %s in %s refused by the store: %s", self.user, command.room, exc)
            self._error("message_rejected", "the server could not store this message", ref=ref)
            return
        except (StoreUnavailableError, OSError) as exc:
            log.warning("store unavailable for a message of %s: %s", self.user, exc)
            self._error("store_unavailable", "message not stored; try again", ref=ref)
            return
        # A message ends a typing spell: typing the next one is news again.
        self._last_typing.pop(command.room, None)
        self.offer(
            encode(
                {
                    "type": "ack",
                    "room": message.room,
                    "client_msg_id": ref,
                    "seq": message.seq,
                    "id": message.id,
                    "ts": message.ts,
                    "duplicate": not created,
                }
            )
        )

    async def _typing(self, command: Typing) -> None:
        if command.room not in self.cursors:
            raise ProtocolError("not_joined", f"join {command.room!r} first")
        now = time.monotonic()
        if now - self._last_typing.get(command.room, 0.0) < TYPING_MIN_INTERVAL:
            return
        self._last_typing[command.room] = now
        frame = encode({"type": "typing", "room": command.room, "user": self.user})
        await self.chat.publish_room_event(command.room, frame)

    async def on_binary(self) -> None:
        self._error("invalid_message", "binary frames are not supported; send JSON text")

    async def on_closed(self) -> None:
        for room in list(self.cursors):
            self.chat.leave_presence(room, self.user)
        self.cursors.clear()
