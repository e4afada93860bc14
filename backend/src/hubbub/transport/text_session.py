"""A plain-text client of the tutorial's /ws/{client_id} chat, sitting in the default room."""

from __future__ import annotations

import asyncio
import logging
import math

from hubbub.auth.base import Identity
from hubbub.chat.hub import RoomEvent
from hubbub.chat.service import ChatService
from hubbub.contract import tutorial
from hubbub.contract.close import Close
from hubbub.contract.text import NUL, NUL_REFUSED
from hubbub.model import MessageRejectedError, RoomFullError, TooManyNewMembersError
from hubbub.transport.base import Transport
from hubbub.transport.connection import Connection, QueueItem
from hubbub.transport.frames import event_line, text_frame

log = logging.getLogger("hubbub.tutorial")


class TextSession:
    __slots__ = ("address", "chat", "client_id", "conn", "identity", "room", "session_id", "user")

    def __init__(
        self, transport: Transport, chat: ChatService, identity: Identity, address: str, client_id: int
    ) -> None:
        self.identity = identity
        self.user = identity.user
        self.session_id = identity.session_id
        self.address = address
        self.chat = chat
        self.client_id = client_id
        self.room = chat.settings.default_room
        self.conn = Connection(
            transport, identity.user, chat.settings, identity.expires_at, self._write, self._write_now
        )

    async def run(self) -> None:
        """Serve the connection (transport/connection.py: until it ends, or until the
        transport takes the frames over)."""
        await self.conn.serve(self.chat, self, "tutorial_chat")

    async def end(self) -> None:
        await self.chat.announce(self.room, tutorial.left_the_chat(self.client_id))

    # --- what the chat hands this connection (hub.Subscriber)
    def deliver(self, event: RoomEvent) -> None:
        if event.text is not None:
            self.conn.offer(event)

    def deliver_global(self, frame: str) -> None:
        return None

    def resync(self) -> None:
        return None  # plain-text clients have no cursor to resume from

    def kick(self, code: int, reason: str) -> None:
        self.conn.kick(Close(code), reason)

    def removed(self, room: str, reason: str) -> None:
        # A plain-text client is its one room: out of it, out altogether.
        if reason != "left":
            self.conn.kick(Close.POLICY_VIOLATION, "removed from the room")

    def _write_now(self, item: QueueItem) -> bool:
        if isinstance(item, str):  # its own lines ("You wrote: ..."): for this client alone
            return self.conn.transport.write_now(text_frame(item))
        if (
            isinstance(item, RoomEvent) and (text := item.text) is not None
        ):  # the room's lines: encoded once for all clients
            return self.conn.transport.write_now(event_line(item, text))
        return True

    async def _write(self, item: QueueItem) -> None:
        if isinstance(item, str):
            await self.conn.send(item)
        elif isinstance(item, RoomEvent) and (text := item.text) is not None:
            await self.conn.send(text)

    async def start(self) -> None:
        try:
            await self.chat.join_default(self)
        except RoomFullError as exc:
            self.conn.kick(Close.POLICY_VIOLATION, str(exc))
            return
        except TooManyNewMembersError as exc:
            self.conn.kick(Close.TOO_MANY_CONNECTIONS, f"{exc}: try again in {math.ceil(exc.retry_after)} s")
            return
        except Exception as exc:
            log.warning("client #%d cannot enter %s: %r", self.client_id, self.room, exc)
            self.conn.kick(Close.INTERNAL_ERROR, "history unavailable, try again")

    async def handle(self, data: str) -> None:
        max_bytes = self.chat.settings.max_message_bytes
        if len(data.encode()) > max_bytes:
            self.conn.kick(Close.MESSAGE_TOO_BIG, f"message larger than {max_bytes} bytes")
            return
        if NUL in data:  # a plain-text client reads no error: the close says why
            self.conn.kick(Close.POLICY_VIOLATION, NUL_REFUSED)
            return
        # Plain-text clients cannot read an error event: over the rate (the user's, shared by
        # their sockets), reading simply waits, and TCP pushes back on the sender. Nothing is dropped.
        while wait := self.chat.message_allowance.take(self.user):  # noqa: ASYNC110 - the wait is computed
            await asyncio.sleep(wait)
        self.conn.offer(tutorial.you_wrote(data))
        await self.conn.start_post(self._post(data))

    def on_binary(self) -> None:
        self.conn.kick(Close.UNSUPPORTED_DATA)

    async def _post(self, data: str) -> None:
        try:
            await self.chat.post(self.room, self.identity, data, client_id=self.client_id)
        except MessageRejectedError as exc:
            log.warning("message of client #%d refused by the store: %s", self.client_id, exc)
            self.conn.kick(Close.INTERNAL_ERROR, "message not stored: refused by the store")
        except Exception as exc:
            log.warning("store unavailable for client #%d: %r", self.client_id, exc)
            self.conn.kick(Close.INTERNAL_ERROR, "message not stored: history unavailable")
