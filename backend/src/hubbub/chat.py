"""The chat service: stores messages, fans them out through the broker, tracks presence.

Every worker runs one. A message is stored before it is published; what the broker drops,
subscribers recover from the store by sequence number.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import Any

from hubbub import envelope, metrics
from hubbub.append_batcher import AppendBatcher
from hubbub.broker import Broker, BrokerUnavailableError
from hubbub.hub import Hub, RoomEvent
from hubbub.presence import Presence
from hubbub.protocol import encode, message_event
from hubbub.settings import Settings
from hubbub.store import AppendError, Draft, Store, StoredMessage

log = logging.getLogger("hubbub.chat")

PRESENCE_PUBLISH_DELAY = 0.05  # seconds: coalesces a burst of joins into one presence update
# Seconds over which presence changes are gathered into one frame per room: a mass reconnect of
# n users costs each client one frame, not n.
PRESENCE_NOTIFY_DELAY = 0.1


class ChatService:
    def __init__(self, settings: Settings, store: Store, broker: Broker) -> None:
        self.settings = settings
        self.store = store
        self.broker = broker
        self.hub = Hub()
        self._appender = AppendBatcher(store, self._publish_stored)
        self.worker_id = uuid.uuid4().hex[:12]
        self.presence = Presence(
            self.worker_id, ttl=settings.presence_heartbeat_seconds * 3, on_change=self._on_presence
        )
        self._tasks: set[asyncio.Task[Any]] = set()
        self._presence_dirty = False
        self._heartbeat: asyncio.Task[None] | None = None
        # room -> user -> joined?  (the last word per user wins within one notification)
        self._presence_changes: dict[str, dict[str, bool]] = {}

    # --- lifecycle
    async def start(self) -> None:
        await self.store.start()
        await self.store.ensure_room(self.settings.default_room)
        await self.broker.start(self._on_payload, self._on_broker_reconnect)
        self._heartbeat = asyncio.create_task(self._presence_heartbeat(), name="hubbub-presence")
        await self._publish(envelope.pack(envelope.PRESENCE_QUERY, self.worker_id))

    async def stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        for task in list(self._tasks):
            task.cancel()
        await self._appender.close()
        # Tell peers at once that this worker's users are gone rather than waiting for expiry.
        with contextlib.suppress(Exception):
            await self.broker.publish(envelope.presence(self.worker_id, {}))
        await self.broker.close()
        await self.store.close()

    def spawn(self, coro: Any, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- publishing
    async def post(
        self,
        room: str,
        author: str,
        body: str,
        client_msg_id: str | None = None,
        client_id: int | None = None,
    ) -> tuple[StoredMessage, bool]:
        """Store, then publish; returns once published. Raises StoreUnavailableError, or an
        AppendError for this message alone, when nothing was stored. Concurrent posts share
        one transaction."""
        try:
            return await self._appender.append(Draft(room, author, body, client_msg_id, client_id))
        except AppendError:
            raise
        except Exception:
            metrics.STORE_ERRORS.inc()
            raise

    async def _publish_stored(self, messages: list[StoredMessage]) -> None:
        metrics.MESSAGES_STORED.inc(len(messages))
        framed = [(m.room, m.seq, encode(message_event(m))) for m in messages]
        for payload in envelope.pack_messages(framed, self.broker.max_payload):
            await self._publish(payload)

    async def publish_room_event(self, room: str, frame: str | None, text: str | None = None) -> None:
        body = f"{room}\n{text or ''}\n{frame or ''}"
        await self._publish(envelope.pack(envelope.ROOM_EVENT, body))

    async def publish_global(self, frame: str) -> None:
        await self._publish(envelope.pack(envelope.GLOBAL_EVENT, frame))

    async def end_session(self, session_id: str) -> None:
        await self._publish(envelope.pack(envelope.LOGOUT, session_id))

    async def _publish(self, payload: str) -> None:
        try:
            await self.broker.publish(payload)
        except BrokerUnavailableError as exc:
            # Stored messages are not lost: every client recovers them by sequence number
            # when the broker is back (resync) or when it reconnects (resume cursor).
            metrics.BROKER_ERRORS.inc()
            log.warning("broker publish failed: %s", exc)

    # --- receiving from the broker (called synchronously by the broker)
    def _on_payload(self, payload: str) -> None:
        try:
            self._handle(envelope.unpack(payload))
        except Exception:
            log.exception("dropping malformed broker payload %.80r", payload)

    def _handle(self, env: envelope.Envelope) -> None:
        kind = env.kind
        if kind == envelope.MESSAGE:
            for frame in envelope.split_messages(env.body):
                data = json.loads(frame)
                self.hub.dispatch(RoomEvent(data["room"], frame, seq=data["seq"], data=data))
        elif kind == envelope.ROOM_EVENT:
            room, text, frame = env.body.split("\n", 2)
            # Typing notices are worth nothing late: a backed-up connection skips them.
            self.hub.dispatch(RoomEvent(room, frame or None, text=text or None, droppable=not text))
        elif kind == envelope.MESSAGE_REF:
            room, seq = env.body.split(" ")
            self.spawn(self._dispatch_from_store(room, int(seq)), "hubbub-message-ref")
        elif kind == envelope.GLOBAL_EVENT:
            self.hub.dispatch_global(env.body)
        elif kind == envelope.PRESENCE:
            worker, rooms = envelope.parse_presence(env.body)
            self.presence.merge_remote(worker, rooms)
        elif kind == envelope.PRESENCE_QUERY:
            if env.body != self.worker_id:
                self._mark_presence_dirty()
        elif kind == envelope.LOGOUT:
            self.hub.kick_session(env.body, 4401, "logged out")
        else:
            log.warning("unknown broker payload kind %r", kind)

    async def _dispatch_from_store(self, room: str, seq: int) -> None:
        try:
            messages = await self.store.after(room, seq - 1, 1)
        except Exception:
            log.exception("cannot read message %s/%d; subscribers will fill the gap later", room, seq)
            return
        for message in messages:
            data = message_event(message)
            self.hub.dispatch(RoomEvent(room, encode(data), seq=message.seq, data=data))

    def _on_broker_reconnect(self) -> None:
        metrics.BROKER_RECONNECTS.inc()
        self.hub.resync()
        self._mark_presence_dirty()
        self.spawn(self._publish(envelope.pack(envelope.PRESENCE_QUERY, self.worker_id)), "hubbub-query")

    # --- presence
    def join_presence(self, room: str, user: str) -> None:
        if self.presence.add(room, user):
            self._mark_presence_dirty()

    def leave_presence(self, room: str, user: str) -> None:
        if self.presence.remove(room, user):
            self._mark_presence_dirty()

    def _on_presence(self, room: str, user: str, joined: bool) -> None:
        if not self._presence_changes:
            self.spawn(self._notify_presence_soon(), "hubbub-presence-notify")
        self._presence_changes.setdefault(room, {})[user] = joined

    async def _notify_presence_soon(self) -> None:
        await asyncio.sleep(PRESENCE_NOTIFY_DELAY)
        changes, self._presence_changes = self._presence_changes, {}
        for room, users in changes.items():
            frame = encode(
                {
                    "type": "presence",
                    "room": room,
                    "users": self.presence.users(room),
                    "joined": sorted(u for u, joined in users.items() if joined),
                    "left": sorted(u for u, joined in users.items() if not joined),
                }
            )
            self.hub.dispatch(RoomEvent(room, frame, droppable=False))

    def _mark_presence_dirty(self) -> None:
        if not self._presence_dirty:
            self._presence_dirty = True
            self.spawn(self._publish_presence_soon(), "hubbub-presence-publish")

    async def _publish_presence_soon(self) -> None:
        await asyncio.sleep(PRESENCE_PUBLISH_DELAY)
        self._presence_dirty = False
        await self._publish(envelope.presence(self.worker_id, self.presence.local_view()))

    async def _presence_heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.settings.presence_heartbeat_seconds)
            self.presence.expire()
            await self._publish(envelope.presence(self.worker_id, self.presence.local_view()))
