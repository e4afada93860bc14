"""A plain-text client of the tutorial's /ws/{client_id} chat, sitting in the default room."""

from __future__ import annotations

import asyncio
import logging

from starlette.websockets import WebSocket

from hubbub.chat import ChatService
from hubbub.connection import QueuedSocket
from hubbub.hub import RoomEvent
from hubbub.ratelimit import TokenBucket

log = logging.getLogger("hubbub.seed")


class TextConnection(QueuedSocket):
    def __init__(
        self,
        websocket: WebSocket,
        chat: ChatService,
        user: str,
        session_id: str | None,
        client_id: int,
    ) -> None:
        super().__init__(websocket, chat, user, session_id)
        self.client_id = client_id
        self.room = chat.settings.default_room
        settings = chat.settings
        self._bucket = TokenBucket(settings.rate_limit_per_second, settings.rate_limit_burst)

    def deliver(self, event: RoomEvent) -> None:
        text = event.text
        if text is not None:
            self.offer(text)

    async def read_loop(self) -> None:
        self.chat.hub.subscribe(self.room, self)
        self.chat.join_presence(self.room, self.user)
        max_bytes = self.chat.settings.max_message_bytes
        while not self.closing and (data := await self.receive_text()) is not None:
            if len(data.encode()) > max_bytes:
                self.kick(1009, f"message larger than {max_bytes} bytes")
                return
            # Plain-text clients cannot read an error event: over the rate, reading simply
            # waits, and TCP pushes back on the sender. Nothing is dropped.
            while wait := self._bucket.try_take():  # noqa: ASYNC110 - the wait is computed
                await asyncio.sleep(wait)
            self.offer(f"You wrote: {data}")
            await self.start_post(self._post(data))

    async def _post(self, data: str) -> None:
        try:
            await self.chat.post(self.room, self.user, data, client_id=self.client_id)
        except Exception as exc:
            log.warning("store unavailable for client #%d: %r", self.client_id, exc)
            self.kick(1011, "message not stored: history unavailable")

    async def on_closed(self) -> None:
        self.chat.leave_presence(self.room, self.user)
        await self.chat.publish_room_event(self.room, None, text=f"Client #{self.client_id} left the chat")
