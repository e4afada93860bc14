"""The tutorial's echo endpoints (/ws, /items/{item_id}/ws): every text frame answered with the
tutorial's lines. They hold no room, but they are connections like the others: registered with
the chat, so a logout, an expiry, a revoked credential, and the per-user and per-address caps
reach them too."""

from __future__ import annotations

from collections.abc import Callable

from hubbub.auth.base import Identity
from hubbub.chat.hub import RoomEvent
from hubbub.chat.service import ChatService
from hubbub.contract.close import Close
from hubbub.transport.base import Transport
from hubbub.transport.connection import Connection, QueueItem
from hubbub.transport.frames import text_frame

Answer = Callable[[str], list[str]]


class EchoSession:
    __slots__ = ("_answer", "_kind", "address", "chat", "conn", "identity", "session_id", "user")

    def __init__(
        self,
        transport: Transport,
        chat: ChatService,
        identity: Identity,
        address: str,
        answer: Answer,
        kind: str = "echo",
    ) -> None:
        self.identity = identity
        self.user = identity.user
        self.session_id = identity.session_id
        self.address = address
        self.chat = chat
        self.conn = Connection(
            transport, identity.user, chat.settings, identity.expires_at, self._write, self._write_now
        )
        self._answer = answer
        self._kind = kind

    async def run(self) -> None:
        """Serve the connection (transport/connection.py: until it ends, or until the
        transport takes the frames over)."""
        await self.conn.serve(self.chat, self, self._kind)

    def deliver(self, event: RoomEvent) -> None:
        return None

    def deliver_global(self, frame: str) -> None:
        return None

    def resync(self) -> None:
        return None

    def kick(self, code: int, reason: str) -> None:
        self.conn.kick(Close(code), reason)

    def removed(self, room: str, reason: str) -> None:
        return None  # in no room

    def _write_now(self, item: QueueItem) -> bool:
        return isinstance(item, str) and self.conn.transport.write_now(text_frame(item))

    async def _write(self, item: QueueItem) -> None:
        if isinstance(item, str):
            await self.conn.send(item)

    async def start(self) -> None:
        return None

    async def handle(self, text: str) -> None:
        for line in self._answer(text):
            self.conn.offer(line)

    def on_binary(self) -> None:
        self.conn.kick(Close.UNSUPPORTED_DATA)

    async def end(self) -> None:
        return None
