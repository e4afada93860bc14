"""A connection speaking the JSON chat protocol (docs/protocol.md): commands in, events out,
and for each room it is in, messages in seq order, each once, without gaps."""

from __future__ import annotations

import logging
import time
from typing import assert_never

from hubbub import metrics, model
from hubbub.auth.base import Identity
from hubbub.chat.hub import RoomEvent
from hubbub.chat.sequencer import CatchUp, Fill, Sequencer, Verdict, start_cursor
from hubbub.chat.service import ChatService
from hubbub.contract import refusals
from hubbub.contract.close import Close
from hubbub.contract.commands import (
    Delete,
    Edit,
    Join,
    Leave,
    ProtocolError,
    React,
    Read,
    Send,
    Typing,
    parse_command,
)
from hubbub.contract.events import (
    Ack,
    Applied,
    ErrorCode,
    ErrorEvent,
    Hello,
    Joined,
    Left,
    MessageEvent,
    Removed,
    catch_up_frames,
    encode,
)
from hubbub.logs import LineBudget
from hubbub.model import (
    AppendError,
    Forbidden,
    MessageChange,
    MessageRejectedError,
    ReadBeyondHeadError,
    RoomArchivedError,
    RoomFullError,
    StoreUnavailableError,
    TooManyNewMembersError,
    TooManyReactionsError,
    UnknownMessageError,
    UnknownRoomError,
)
from hubbub.transport.base import Transport
from hubbub.transport.connection import Connection, QueueItem
from hubbub.transport.delivery import (
    DROP,
    FILL_CHANGES,
    MOST_STEPS,
    SEND_CHANGE,
    SEND_MESSAGE,
    Action,
    decide,
)
from hubbub.transport.frames import event_frame, text_frame

log = logging.getLogger("hubbub.protocol")

CATCH_UP_PAGE = 500
TYPING_MIN_INTERVAL = 1.0  # seconds: typing notices faster than this are dropped, not errors


class JsonSession:
    __slots__ = (
        "_last_typing",
        "_log_budget",
        "_members_only",
        "address",
        "changes",
        "chat",
        "conn",
        "identity",
        "rooms",
        "session_id",
        "user",
    )

    def __init__(self, transport: Transport, chat: ChatService, identity: Identity, address: str) -> None:
        self.identity = identity
        self.user = identity.user
        self.session_id = identity.session_id
        self.address = address
        self.chat = chat
        self.conn = Connection(
            transport, identity.user, chat.settings, identity.expires_at, self._write, self._write_now
        )
        self._log_budget: LineBudget | None = None
        self.rooms = Sequencer()  # per room: the seq of the last message sent
        self.changes = Sequencer()  # per room: the last change number sent (or caught up to)
        self._last_typing: dict[str, float] = {}
        # Joined rooms that are private or DMs: what is read of them from the store is sent
        # only once the user is known to be a member still (ChatService.messages_after).
        self._members_only: set[str] = set()

    async def run(self) -> None:
        """Serve the connection (transport/connection.py: until it ends, or until the
        transport takes the frames over)."""
        await self.conn.serve(self.chat, self, "chat")

    # --- what the chat hands this connection (hub.Subscriber)
    def deliver(self, event: RoomEvent) -> None:
        if event.frame is not None:
            self.conn.offer(event)

    def deliver_global(self, frame: str) -> None:
        self.conn.offer(frame)

    def resync(self) -> None:
        # Live events may have been lost, a removal among them: members-only rooms are
        # checked again (CatchUp.check).
        for room in self.rooms:
            self.conn.offer(CatchUp(room, check=room in self._members_only))

    def kick(self, code: int, reason: str) -> None:
        self.conn.kick(Close(code), reason)

    def removed(self, room: str, reason: str) -> None:
        """Out of the room at once: whatever of it is still queued is dropped by the writer, and
        a join of it under way fails (ChatService.join)."""
        self.chat.leave(self, room)
        self._members_only.discard(room)
        self.changes.leave(room)
        if self.rooms.leave(room):
            self.conn.offer(encode(Removed(room=room, reason="left" if reason == "left" else "removed")))

    # --- writer
    def _write_now(self, item: QueueItem) -> bool:
        """What ``_write`` would do with the item, done now if it needs no waiting: True when
        the item is done with (written, or nothing to write); False, with nothing changed, when
        it needs ``_write`` (a gap to fill from the store, a catch-up, a socket without room).
        A room's frames are the bytes encoded once for every connection."""
        conn = self.conn
        if type(item) is not RoomEvent:
            if isinstance(item, str):
                return conn.transport.write_now(text_frame(item))
            return False  # a catch-up reads the store
        action = decide(item, self.rooms, self.changes)
        if action is SEND_MESSAGE:  # the common case first, and its cursor moved right here
            if not conn.transport.write_now(event_frame(item)):
                return False
            self.rooms.sent(item.room, item.seq)  # type: ignore[arg-type]  # a message has one
            return True
        if action is DROP:
            return True
        if action is FILL_CHANGES or type(action) is Fill:
            return False
        if not conn.transport.write_now(event_frame(item)):
            return False
        self._sent(item, action)
        return True

    def _sent(self, event: RoomEvent, action: Action | Fill) -> None:
        """The event was written: the cursor it moves, moves."""
        if action is SEND_MESSAGE and event.seq is not None:
            self.rooms.sent(event.room, event.seq)
        elif action is SEND_CHANGE and event.change is not None:
            self.changes.sent(event.room, event.change)

    async def _write(self, item: QueueItem) -> None:
        if isinstance(item, str):
            await self.conn.send(item)
            return
        if isinstance(item, CatchUp):
            if item.check and not await self._still_member(item.room):
                return
            # A join's messages up to the head it read, then the changes to them, then anything
            # newer: everything a resume sends comes before a message posted after the client
            # was told it had joined (reading to the store's head first sent that one ahead).
            if (fill := self.rooms.catch_up(item.room, item.head)) is not None:
                await self._fill(fill)
                await self._fill_changes(item.room)
                if item.head is not None and (rest := self.rooms.catch_up(item.room)) is not None:
                    await self._fill(rest)
            return
        for _ in range(MOST_STEPS):
            action = decide(item, self.rooms, self.changes)
            match action:
                case Fill():
                    await self._fill(action)
                case Action.FILL_CHANGES:
                    await self._fill_changes(item.room)
                case Action.DROP:
                    return
                case Action.SEND | Action.SEND_MESSAGE | Action.SEND_CHANGE:
                    assert item.frame is not None  # decide() drops frameless events
                    await self.conn.send(item.frame)
                    self._sent(item, action)
                    return
                case _:
                    assert_never(action)

    def _reader(self, room: str) -> Identity | None:
        """Who reads the room's pages from the store, for the chat to check they still may."""
        return self.identity if room in self._members_only else None

    async def _still_member(self, room: str) -> bool:
        try:
            await self.chat.rooms.visible(self.identity, room)
        except UnknownRoomError:
            self.removed(room, "removed")
            return False
        except Exception as exc:
            log.warning("cannot check %s in %s: %r", self.user, room, exc)
            self.conn.kick(Close.INTERNAL_ERROR, "history unavailable, reconnect to resume")
            return False
        return True

    async def _fill(self, fill: Fill) -> None:
        """Send what the store has in the gap, page by page, through the same rules."""
        after, reader = fill.after, self._reader(fill.room)
        while fill.room in self.rooms:
            try:
                page = await self.chat.messages_after(fill.room, after, CATCH_UP_PAGE, reader)
            except UnknownRoomError:
                self.removed(fill.room, "removed")  # removed before the page was read
                return
            except Exception as exc:
                metrics.STORE_ERRORS.inc()
                log.warning("history unavailable for %s in %s: %r", self.user, fill.room, exc)
                # Sending later messages over a hole would lose the ones in it: let the client
                # reconnect and resume from its cursor instead.
                self.conn.kick(Close.INTERNAL_ERROR, "history unavailable, reconnect to resume")
                return
            for message in page:
                if fill.upto is not None and message.seq > fill.upto:
                    return
                if self.rooms.offer(fill.room, message.seq) is Verdict.SEND:
                    await self.conn.send(encode(MessageEvent.of(message)))
                    self.rooms.sent(fill.room, message.seq)
                after = message.seq
            if len(page) < CATCH_UP_PAGE:
                return

    async def _fill_changes(self, room: str) -> None:
        """Bring the client's copy of every message it has up to date with the changes after
        its change cursor, as they now are (several edits of one message send one), and move
        the cursor to the room's change head as read before: every change up to it is then in
        what was sent, and anything later arrives live."""
        cursor = self.changes.cursor(room)
        if cursor is None:
            return
        try:
            head = await self.chat.changes_head(room)
            after_seq, reader = 0, self._reader(room)
            while head > cursor and room in self.changes:
                page = await self.chat.changed_since(room, cursor, after_seq, CATCH_UP_PAGE, reader)
                for message in page:
                    sent_upto = self.rooms.cursor(room)
                    if sent_upto is None:
                        return
                    if message.seq > sent_upto:
                        # Not sent yet: it goes now, from the store, with its changes in it.
                        await self._fill(Fill(room, sent_upto, message.seq))
                        continue
                    for frame in catch_up_frames(message):
                        await self.conn.send(frame)
                if len(page) < CATCH_UP_PAGE:
                    break
                after_seq = page[-1].seq
        except UnknownRoomError:
            self.removed(room, "removed")
            return
        except Exception as exc:
            metrics.STORE_ERRORS.inc()
            log.warning("changes unavailable for %s in %s: %r", self.user, room, exc)
            self.conn.kick(Close.INTERNAL_ERROR, "history unavailable, reconnect to resume")
            return
        if room in self.changes and head > cursor:
            self.changes.sent(room, head)

    # --- reader (Connection.serve calls these)
    async def start(self) -> None:
        settings = self.chat.settings
        hello = Hello(
            user=self.user, default_room=settings.default_room, max_message_bytes=settings.max_message_bytes
        )
        self.conn.offer(encode(hello))
        try:
            # From now on, new messages in its other rooms reach this connection as counts.
            await self.chat.attention.watch(self)
        except Exception as exc:  # the store is down: counts come with the next list instead
            log.warning("cannot watch the rooms of %s: %r", self.user, exc)

    async def handle(self, text: str) -> None:
        try:
            command = parse_command(text)
            match command:
                case Send():
                    await self._send(command)
                case Join():
                    await self._join(command)
                case Leave():
                    self._leave(command.room)
                case Typing():
                    await self._typing(command)
                case Read():
                    await self._read(command)
                case Edit() | Delete() | React():
                    await self._change_message(command)
                case _:
                    assert_never(command)
        except ProtocolError as exc:
            self._error(exc.code, exc.message, room=exc.room)

    def on_binary(self) -> None:
        self._error("invalid_message", "binary frames are not supported; send JSON text")

    async def end(self) -> None:
        self.chat.attention.unwatch(self)

    def _error(
        self,
        code: ErrorCode,
        message: str,
        ref: str | None = None,
        retry_after: float | None = None,
        room: str | None = None,
    ) -> None:
        metrics.CLIENT_ERRORS.labels(code).inc()
        # A client sending nothing but bad frames would otherwise write a log line per frame.
        self._log_budget = self._log_budget or LineBudget()
        if (held := self._log_budget.take()) is not None:
            log.info("error for %s: %s %s%s", self.user, code, message, held)
        event = ErrorEvent(code=code, message=message, ref=ref, retry_after=retry_after, room=room)
        self.conn.offer(encode(event))

    async def _join(self, command: Join) -> None:
        settings = self.chat.settings
        if wait := self.chat.join_allowance.take(self.user):
            self._error("rate_limited", "too many joins; slow down", retry_after=wait, room=command.room)
            return
        try:
            joined = await self.chat.join(self, command.room)
        except UnknownRoomError:
            if command.room in self.rooms:  # joined, and no longer a member
                self.removed(command.room, "removed")
            raise ProtocolError("unknown_room", refusals.NO_SUCH_ROOM, command.room) from None
        except RoomFullError as exc:
            found, text = refusals.answer(exc)
            raise ProtocolError(found.code, text, command.room) from None
        except TooManyNewMembersError as exc:
            self._error("rate_limited", str(exc), retry_after=exc.retry_after, room=command.room)
            return
        except Exception:
            metrics.STORE_ERRORS.inc()
            raise ProtocolError("store_unavailable", "history is unavailable; try again") from None
        if joined.members_only:
            self._members_only.add(command.room)
        cursor, truncated = start_cursor(
            joined.head, command.after, settings.history_page_size, settings.resume_max_messages
        )
        self.rooms.join(command.room, cursor)
        # A client that did not say what it has (a first visit, or one that predates changes)
        # starts at the head: what it is sent is as the store has it now.
        changes = joined.changes
        if command.after is not None and command.changes_after is not None:
            changes = min(command.changes_after, joined.changes)
        self.changes.join(command.room, changes)
        room = command.room
        self.conn.offer(
            encode(
                Joined(
                    room=room,
                    head=joined.head,
                    from_=cursor,
                    truncated=truncated,
                    users=joined.online.users,
                    online=joined.online.count,
                    changes=joined.changes,
                )
            )
        )
        # Changes to catch up on go before messages newer than the head read (CatchUp.head).
        head = joined.head if changes < joined.changes else None
        self.conn.offer(CatchUp(command.room, head=head))

    def _leave(self, room: str) -> None:
        if not self.rooms.leave(room):
            raise ProtocolError("not_joined", f"not in room {room!r}")
        self.changes.leave(room)
        self._members_only.discard(room)
        self.chat.leave(self, room)
        self.conn.offer(encode(Left(room=room)))

    async def _send(self, command: Send) -> None:
        ref = command.client_msg_id
        if command.room not in self.rooms:
            raise ProtocolError("not_joined", f"join {command.room!r} before sending to it")
        if len(command.body.encode()) > self.chat.settings.max_message_bytes:
            self._error("too_large", "message body is too large", ref=ref)
            return
        wait = self.chat.message_allowance.take(self.user)
        if wait:
            self._error("rate_limited", "too many messages; slow down", ref=ref, retry_after=wait)
            return
        await self.conn.start_post(self._post(command))

    async def _post(self, command: Send) -> None:
        ref = command.client_msg_id
        try:
            message, created = await self.chat.post(
                command.room, self.identity, command.body, ref, files=command.files
            )
        except (AppendError, StoreUnavailableError, OSError) as exc:
            # Removed meanwhile: to a non-member the room does not exist (the table says so).
            if isinstance(exc, MessageRejectedError):
                log.warning("message of %s in %s refused by the store: %s", self.user, command.room, exc)
            elif not isinstance(exc, AppendError):
                log.warning("store unavailable for a message of %s: %s", self.user, exc)
            self._refused(exc, ref, command.room, unavailable="message not stored; try again")
            return
        # A message ends a typing spell: typing the next one is news again.
        self._last_typing.pop(command.room, None)
        ack = Ack(
            room=message.room,
            client_msg_id=ref,
            seq=message.seq,
            id=message.id,
            ts=message.ts,
            duplicate=not created,
        )
        self.conn.offer(encode(ack))

    async def _change_message(self, command: Edit | Delete | React) -> None:
        # No join needed: who may change what is the room's rule (Rooms.changeable), and a
        # room the user cannot see answers as a message that does not exist.
        room, ref = command.room, command.ref
        change: MessageChange
        match command:
            case Edit(body=body):
                if len(body.encode()) > self.chat.settings.max_message_bytes:
                    self._error("too_large", "message body is too large", ref=ref, room=room)
                    return
                change = model.Edit(body)
            case Delete():
                change = model.Delete()
            case React(emoji=emoji, on=on):
                change = model.React(self.user, emoji, on)
            case _:
                assert_never(command)
        # Edits and reactions spend the same allowance as messages.
        wait = self.chat.message_allowance.take(self.user)
        if wait:
            self._error("rate_limited", "too many changes; slow down", ref=ref, retry_after=wait, room=room)
            return
        try:
            message = await self.chat.change(self.identity, room, command.id, change)
        except (UnknownMessageError, Forbidden, RoomArchivedError, TooManyReactionsError) as exc:
            self._refused(exc, ref, room, message_id=command.id)
            return
        except (StoreUnavailableError, OSError) as exc:
            log.warning("store unavailable for a change by %s: %s", self.user, exc)
            self._refused(exc, ref, room, unavailable="not changed; try again")
            return
        if ref is not None:
            change_no = None if message is None else message.change
            self.conn.offer(encode(Applied(ref=ref, room=room, id=command.id, change=change_no)))

    async def _read(self, command: Read) -> None:
        try:
            await self.chat.attention.read(self.identity, command.room, command.seq)
        except (UnknownRoomError, ReadBeyondHeadError) as exc:
            found, text = refusals.answer(exc, refusals.About(command.room))
            raise ProtocolError(
                found.code, text, command.room if found.code == "unknown_room" else None
            ) from None

    def _refused(
        self,
        exc: Exception,
        ref: str | None,
        room: str,
        message_id: str | None = None,
        unavailable: str = "",
    ) -> None:
        """A refusal as an error event, in the words of contract/refusals.py."""
        if isinstance(exc, OSError):
            exc = StoreUnavailableError(str(exc))
        found, text = refusals.answer(exc, refusals.About(room, message_id, unavailable))
        self._error(found.code, text, ref=ref, room=room)

    async def _typing(self, command: Typing) -> None:
        if command.room not in self.rooms:
            raise ProtocolError("not_joined", f"join {command.room!r} first")
        now = time.monotonic()
        if now - self._last_typing.get(command.room, 0.0) < TYPING_MIN_INTERVAL:
            return
        self._last_typing[command.room] = now
        await self.chat.typing(command.room, self.user)
