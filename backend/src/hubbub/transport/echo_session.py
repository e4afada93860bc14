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
    __slots__ = ("_answer", "address", "chat", "conn", "identity", "session_id", "user")

    def __init__(
        self, transport: Transport, chat: ChatService, identity: Identity, address: str, answer: Answer
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

    async def run(self) -> None:
        try:
            await self.conn.serve(self.chat, self, self._read_loop)
        finally:
            await self.conn.closed()

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

    async def _read_loop(self) -> None:
        while (
            not self.conn.closing
            and (text := await self.conn.transport.receive_text(self._on_binary)) is not None
        ):
            for line in self._answer(text):
                self.conn.offer(line)

    def _on_binary(self) -> None:
        self.conn.kick(Close.UNSUPPORTED_DATA)
