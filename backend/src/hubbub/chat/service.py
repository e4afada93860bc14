"""The chat service: every worker runs one, and everything else talks to the chat through its
verbs. It stores messages, fans them out through the broker, and tracks presence; the store,
the broker, this worker's connections (the hub) and presence are its own.

A message is stored before it is published; what the broker drops, subscribers recover from
the store by sequence number.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from hubbub import metrics
from hubbub.auth.base import Identity
from hubbub.auth.names import NameIndex
from hubbub.broker import Broker, BrokerUnavailableError
from hubbub.chat import envelope, mentions
from hubbub.chat.append_batcher import AppendBatcher
from hubbub.chat.attention import Attention
from hubbub.chat.bots import Bots
from hubbub.chat.files import Files
from hubbub.chat.hub import Hub, RoomEvent, Subscriber
from hubbub.chat.presence import Online, Presence
from hubbub.chat.rooms import Rooms
from hubbub.chat.search_indexer import SearchIndexer
from hubbub.contract.close import Close
from hubbub.contract.events import Event, MessageEvent, PresenceEvent, TypingEvent, change_frame, encode
from hubbub.files import FileStorage
from hubbub.limits import Limiter
from hubbub.model import (
    PUBLIC,
    ROOM_MENTION,
    AccountState,
    AppendError,
    Draft,
    Found,
    MessageChange,
    RoomArchivedError,
    StoredMessage,
    TooManyReactionsError,
    UnknownMessageError,
    UnknownRoomError,
)
from hubbub.people.service import People
from hubbub.ratelimit import Allowances
from hubbub.search.query import SearchQuery, parse
from hubbub.settings import Settings
from hubbub.store import Store

log = logging.getLogger("hubbub.chat")

SEEN_BATCH_SECONDS = 1.0  # users who connected are remembered together, this often
SEEN_AGAIN_SECONDS = 300.0  # a user's "last seen" is written again after this long (admin page)


@dataclass(frozen=True, slots=True)
class HistoryWindow:
    messages: list[StoredMessage]  # oldest first
    has_older: bool  # messages before the first one
    has_newer: bool  # messages after the last one


@dataclass(frozen=True, slots=True)
class RoomJoin:
    head: int  # seq of the room's newest message
    online: Online  # who is online in it now
    changes: int  # the room's newest change number
    members_only: bool  # private or a DM: what is read of it is for members only


class ChatService:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        broker: Broker,
        storage: FileStorage,
        limiter: Limiter | None = None,
    ) -> None:
        self.settings = settings
        self._store = store
        self._broker = broker
        self._storage = storage
        self._hub = Hub()
        self._appender = AppendBatcher(store, self._publish_stored)
        self._indexer = SearchIndexer(store)
        self._tasks: set[asyncio.Task[Any]] = set()
        self.worker_id = uuid.uuid4().hex[:12]
        # Who is online, by name and by what the name looks like (auth mode none's checks).
        self.online = NameIndex()
        self._presence = Presence(
            self.worker_id,
            heartbeat=settings.presence_heartbeat_seconds,
            publish=self._publish,
            notify=self._notify_presence,
            spawn=self._spawn,
            shared=not settings.broker_is_in_process,
            everyone=self._online_in_a_room,
        )
        # Who may see and do what in which room: every room verb below goes through it.
        self.rooms = Rooms(settings, store, self._publish, self.online_users, limiter)
        self.attention = Attention(store, self._hub, self._publish, self.rooms.visible)
        self.bots = Bots(settings, store)
        # Per user, shared by all their sockets on this worker: opening more does not buy more.
        self.message_allowance = Allowances(settings.rate_limit_per_second, settings.rate_limit_burst)
        self.join_allowance = Allowances(settings.join_rate_per_second, settings.join_burst)
        self.files = Files(settings, store, storage, self.rooms)
        self.people = People(settings, store, self._publish, self.rooms, self.bots)
        self.people.accounts.on_change = self._accounts_changed
        self._seen: dict[str, float] = {}
        self._unseen: set[str] = set()
        # Connections begun and not yet ended (transport/connection.py), and who waits for none.
        self._live = 0
        self._all_ended: asyncio.Event | None = None

    # --- lifecycle
    async def start(self) -> None:
        await self._store.start()
        await self._storage.start()
        await self._store.ensure_room(self.settings.default_room)
        await self.people.accounts.start()
        await self._broker.start(self._on_payload, self._on_broker_reconnect)
        await self._presence.start()
        self._indexer.sweep()
        self._spawn(self.files.collector.run_forever(), "hubbub-file-collector")

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self._appender.close()
        await self._indexer.close()
        with contextlib.suppress(Exception):
            await self._presence.stop()
        await self._broker.close()
        await self._storage.close()
        await self._store.close()

    async def problems(self) -> dict[str, str]:
        """What keeps this worker from serving: {part: why}, empty when ready."""
        found: dict[str, str] = {}
        checks = (("store", self._store.ping), ("broker", self._broker.ping), ("files", self._storage.ping))
        for name, check in checks:
            try:
                await check()
            except Exception as exc:
                found[name] = str(exc) or type(exc).__name__
        return found

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- connections of this worker
    def connect(self, subscriber: Subscriber) -> None:
        """The subscriber is one of this worker's connections until it disconnects."""
        if self._hub.add(subscriber):
            self.online.add(subscriber.user)

    def disconnect(self, subscriber: Subscriber) -> None:
        """It leaves every room it is still in."""
        for room in self._hub.remove(subscriber):
            self._presence.leave(room, subscriber.user)
        if subscriber.user in self.online and not self._hub.connections_of(subscriber.user):
            self.online.discard(subscriber.user)

    def begun(self) -> None:
        """A connection has begun; it calls ``ended`` once everything it does is done."""
        self._live += 1

    def ended(self) -> None:
        self._live -= 1
        if self._live == 0 and self._all_ended is not None:
            self._all_ended.set()

    async def connections_ended(self) -> None:
        """Until every connection has ended: its posts stored, its goodbyes said. A connection
        handed over to the protocol (transport/ws_protocol.py) ends outside any ASGI call, so
        the server's graceful shutdown does not wait for it: the runtime's stop does."""
        if self._live:
            self._all_ended = asyncio.Event()
            await self._all_ended.wait()

    def connections_of(self, user: str) -> int:
        return self._hub.connections_of(user)

    def connections_from(self, address: str) -> int:
        return self._hub.connections_from(address)

    def online_users(self) -> NameIndex:
        """Everyone connected here, and everyone in a room through any worker."""
        return self.online

    def _online_in_a_room(self, user: str, online: bool) -> None:
        if online:
            self.online.add(user)
        else:
            self.online.discard(user)

    def kick_all(self, code: Close, reason: str) -> None:
        self._hub.kick_all(code, reason)

    def kick_if(self, predicate: Callable[[Subscriber], bool], code: Close, reason: str) -> int:
        """Close this worker's connections the predicate picks; returns how many."""
        return self._hub.kick_if(predicate, code, reason)

    # --- rooms
    async def history(
        self, actor: Identity | None, room: str, before: int | None, limit: int
    ) -> HistoryWindow:
        """The newest ``limit`` messages before ``before`` (the newest of all: None), oldest
        first. Raises UnknownRoomError, for a room the actor may not see too."""
        info = await self.rooms.visible(actor, room)
        page = await self._store.before(room, before, limit + 1)
        shown = page[-limit:]
        last = shown[-1].seq if shown else (info.head if before is None else min(before - 1, info.head))
        return HistoryWindow(shown, len(page) > limit, last < info.head)

    async def history_after(self, actor: Identity | None, room: str, after: int, limit: int) -> HistoryWindow:
        """The oldest ``limit`` messages after ``after``, oldest first."""
        info = await self.rooms.visible(actor, room)
        page = await self._store.after(room, after, limit + 1)
        return HistoryWindow(page[:limit], min(after, info.head) >= 1, len(page) > limit)

    async def history_around(self, actor: Identity | None, room: str, seq: int, limit: int) -> HistoryWindow:
        """``limit`` messages around ``seq`` (it among them when it exists), oldest first: as
        many before it as after, or more on one side where the other runs out. Raises
        UnknownRoomError, for a room the actor may not see too."""
        await self.rooms.visible(actor, room)
        older = await self._store.before(room, seq, limit + 1)
        newer = await self._store.after(room, seq - 1, limit + 1)
        after = min(len(newer), max(limit - limit // 2, limit - len(older)))
        before = min(len(older), limit - after)
        page = older[len(older) - before :] + newer[:after]
        return HistoryWindow(page, len(older) > before, len(newer) > after)

    async def search(
        self,
        actor: Identity | None,
        text: str,
        room: str | None,
        before: int | None,
        limit: int,
        utc_offset: int,
    ) -> tuple[Found, SearchQuery]:
        """A page of what the query (search/query.py) finds in the rooms the actor may read,
        newest first; with ``room``, in that room only (as in:). Raises SearchQueryError."""
        query = parse(text, utc_offset)
        if room is not None:
            query = query.in_rooms(query.rooms & {room} if query.rooms else frozenset({room}))
            if not query.rooms:
                return Found((), None), query
        return await self._store.search(actor.user if actor else None, query, before, limit), query

    async def messages_after(
        self, room: str, after: int, limit: int, reader: Identity | None = None
    ) -> list[StoredMessage]:
        """For a connection's own gap fill, in a room it has joined. With a ``reader`` (a room
        for members only), what was read is theirs only if they are still a member after it was
        read: a removal that committed before the read fails that check (UnknownRoomError),
        and whatever committed after the removal was read after it too."""
        page = await self._store.after(room, after, limit)
        if page and reader is not None:
            await self.rooms.visible(reader, room)
        return page

    async def remember_users(self, names: list[str]) -> None:
        """Users the configuration names: known (invitable) before they first sign in."""
        await self._store.touch_users(names)

    async def seen(self, identity: Identity, *, now: bool = False) -> None:
        """Remember the user (once per worker, again every SEEN_AGAIN_SECONDS: their "last
        seen"): they can be found and invited from now on. A sign-in (``now``) writes at once;
        a connection joins the next batch, so that a wave of reconnecting users costs one
        write, not one each. A role the credential carries is kept (admin page)."""
        user = identity.user
        self.people.accounts.observe(identity, self._spawn)
        clock = time.monotonic()
        if clock - self._seen.get(user, -SEEN_AGAIN_SECONDS) < SEEN_AGAIN_SECONDS and not now:
            return
        if len(self._seen) >= 100_000:
            self._seen.clear()
        self._seen[user] = clock
        if now:
            await self._store.touch_users([user])
            return
        if not self._unseen:
            self._spawn(self._remember_soon(), "hubbub-users")
        self._unseen.add(user)

    async def _remember_soon(self) -> None:
        await asyncio.sleep(SEEN_BATCH_SECONDS)
        names, self._unseen = sorted(self._unseen), set()
        try:
            await self._store.touch_users(names)
        except Exception as exc:
            for name in names:  # tried again when they next connect
                self._seen.pop(name, None)
            log.warning("could not remember %d users: %r", len(names), exc)

    # --- in a room
    async def join(self, subscriber: Subscriber, room: str) -> RoomJoin:
        """Subscribe to the room's events, a member of it from now on if it is public. Raises
        UnknownRoomError (also for a room the subscriber may not see), StoreUnavailableError.

        The subscription comes first, pending, and membership is read after it: a removal that
        commits before that read is seen by it, and one that commits later is published after
        the subscription exists, so it reaches it (Hub.remove_member) and ends it. A join whose
        subscription was ended meanwhile fails as if the removal had come first. No interleaving
        leaves a non-member subscribed."""
        first = self._hub.subscribe(room, subscriber, pending=True)
        try:
            info = await self.rooms.enter(subscriber.identity, room, subscriber.address)
            # Read after subscribing: a change after this number reaches the subscriber live.
            changes = await self._store.room_changes(room)
        except BaseException:
            if first:
                self._hub.unsubscribe(room, subscriber)
            raise
        if not self._hub.confirm(room, subscriber):
            raise UnknownRoomError(room)
        if first:
            # The others hear of a first arrival; this client gets the list in its answer.
            self._presence.join(room, subscriber.user)
        return RoomJoin(info.head, self._presence.users(room), changes, info.visibility != PUBLIC)

    async def join_default(self, subscriber: Subscriber) -> None:
        """A plain-text client's only room, the default one (public, always there): it hears
        the room from the moment it connects, and is a member by the time it first posts."""
        room = self.settings.default_room
        if self._hub.subscribe(room, subscriber):
            self._presence.join(room, subscriber.user)
        await self.rooms.enter(subscriber.identity, room, subscriber.address)

    def leave(self, subscriber: Subscriber, room: str) -> None:
        if self._hub.unsubscribe(room, subscriber):
            self._presence.leave(room, subscriber.user)

    async def post(
        self,
        room: str,
        author: Identity,
        body: str,
        client_msg_id: str | None = None,
        client_id: int | None = None,
        bot: bool = False,
        files: Sequence[str] = (),
    ) -> tuple[StoredMessage, bool]:
        """Store, then publish; returns once published. Raises StoreUnavailableError, or an
        AppendError for this message alone (UnknownFileError: ``files`` are not all uploads of
        the author's in this room, not attached yet), when nothing was stored. Concurrent
        posts share one transaction."""
        mentions = await self._mentions(room, author, body) if "@" in body else ()
        attached = tuple(dict.fromkeys(files))  # each once, in the order given
        draft = Draft(room, author.user, body, client_msg_id, client_id, mentions, bot, attached)
        try:
            return await self._appender.append(draft)
        except AppendError:
            raise
        except Exception:
            metrics.STORE_ERRORS.inc()
            raise

    async def change(
        self, actor: Identity, room: str, message_id: str, change: MessageChange
    ) -> StoredMessage | None:
        """Edit, delete or react to a stored message, if the actor may (Rooms.changeable), then
        publish the change; returns the message as it now is, or None when nothing changed.
        Raises UnknownMessageError, Forbidden, RoomArchivedError, StoreUnavailableError."""
        await self.rooms.changeable(actor, room, message_id, change)
        try:
            message = await self._store.change_message(room, message_id, change)
        except (UnknownMessageError, RoomArchivedError, TooManyReactionsError):
            raise
        except Exception:
            metrics.STORE_ERRORS.inc()
            raise
        if message is not None:
            await self._publish(
                envelope.MessageChanged(room, message.change, message.seq, change_frame(message, change))
            )
            self._indexer.nudge((room,))
        return message

    async def changes_head(self, room: str) -> int:
        return await self._store.room_changes(room)

    async def changed_since(
        self, room: str, after_change: int, after_seq: int, limit: int, reader: Identity | None = None
    ) -> list[StoredMessage]:
        """For a connection's own change catch-up, in a room it has joined; ``reader`` as for
        messages_after."""
        page = await self._store.changed_since(room, after_change, after_seq, limit)
        if page and reader is not None:
            await self.rooms.visible(reader, room)
        return page

    async def _mentions(self, room: str, author: Identity, body: str) -> tuple[str, ...]:
        """The members the body mentions; @room too where the author may use it (any member
        in a room of up to HUBBUB_ROOM_MENTION_MAX_MEMBERS, else its owner or an admin)."""
        names = {name for choices in mentions.candidates(body) for name in choices}
        found = mentions.resolve(body, set(await self._store.members_among(room, sorted(names))))
        if mentions.mentions_room(body):
            small = await self._store.count_members(room) <= self.settings.room_mention_max_members
            info = await self._store.room(room, author.user)
            if small or author.admin or (info is not None and info.owner == author.user):
                found.append(ROOM_MENTION)
        return tuple(found)

    async def typing(self, room: str, user: str) -> None:
        await self._publish_notice(room, TypingEvent(room=room, user=user))

    async def announce(self, room: str, text: str) -> None:
        """A line for the room's plain-text clients only (the tutorial's "left the chat")."""
        await self._publish(envelope.RoomNotice(room, None, text))

    # --- sessions
    async def end_session(self, session_id: str) -> None:
        """Close the session's sockets on every worker."""
        await self._publish(envelope.SessionEnded(session_id))

    # --- to the broker
    async def _publish_stored(self, messages: list[StoredMessage]) -> None:
        metrics.MESSAGES_STORED.inc(len(messages))
        framed = [(m.room, m.seq, encode(MessageEvent.of(m))) for m in messages]
        for item in envelope.pack_messages(framed, self._broker.max_payload):
            await self._publish(item)
        # After the publish, and the ack after this returns: indexing waits for neither.
        self._indexer.nudge({m.room for m in messages})

    async def _publish_notice(self, room: str, event: Event) -> None:
        await self._publish(envelope.RoomNotice(room, encode(event)))

    async def _publish(self, item: envelope.Envelope) -> None:
        try:
            await self._broker.publish(envelope.encode(item))
        except BrokerUnavailableError as exc:
            # Stored messages are not lost: every client recovers them by sequence number
            # when the broker is back (resync) or when it reconnects (resume cursor).
            metrics.BROKER_ERRORS.inc()
            log.warning("broker publish failed: %s", exc)

    # --- from the broker (called synchronously by the broker)
    def _on_payload(self, payload: str) -> None:
        try:
            self._handle(envelope.decode(payload))
        except Exception:
            log.exception("dropping malformed broker payload %.80r", payload)

    def _handle(self, item: envelope.Envelope) -> None:
        match item:
            case envelope.StoredMessages(messages):
                for room, seq, frame in messages:
                    self._hub.dispatch(RoomEvent(room, frame, seq=seq))
                self.attention.messages(messages)
            case envelope.MessageChanged(room, change, seq, frame):
                self._hub.dispatch(RoomEvent(room, frame, seq=seq, change=change))
            case envelope.RoomNotice(room, frame, text):
                # Typing notices are worth nothing late: a backed-up connection skips them.
                self._hub.dispatch(RoomEvent(room, frame, text=text, droppable=text is None))
            case envelope.MessageRef(room, seq):
                self._spawn(self._dispatch_from_store(room, seq), "hubbub-message-ref")
            case envelope.Broadcast(frame):
                self._hub.dispatch_global(frame)
            case envelope.ToUsers(users, frame):
                self._hub.dispatch_to_users(users, frame)
            case envelope.MembersAdded(room, users):
                self.attention.members_added(room, users)
            case envelope.MemberRemoved(room, user, reason):
                self._hub.remove_member(room, user, reason)
                self.attention.member_removed(room, user)
            case envelope.PresenceSnapshot():
                self._presence.on_snapshot(item)
            case envelope.PresenceQuery():
                self._presence.on_query(item)
            case envelope.SessionEnded(session_id):
                self._hub.kick_session(session_id, Close.UNAUTHORIZED, "logged out")
            case envelope.AccountsChanged():
                self._spawn(self._refresh_accounts(), "hubbub-accounts")

    # --- accounts
    async def _refresh_accounts(self) -> None:
        try:
            await self.people.accounts.refresh()
        except Exception as exc:  # read again at the next check (HUBBUB_CREDENTIAL_CHECK_SECONDS)
            log.warning("cannot read the accounts that changed: %r", exc)

    def _accounts_changed(self, states: list[AccountState]) -> None:
        """Accounts changed (on any worker, or by the `hubbub` command): a deactivated user's
        sockets close, a new password closes those of the old one, a new role applies to
        open sockets at once."""
        accounts = self.people.accounts
        for state in states:
            if state.deactivated:
                self._hub.kick_user(state.name, Close.UNAUTHORIZED, "account deactivated")
        active = {state.name: state for state in states if not state.deactivated}
        if not active:
            return
        self._hub.kick_if(
            lambda s: s.user in active and not accounts.current(s.identity),
            Close.UNAUTHORIZED,
            "credential revoked",
        )
        if accounts.source == "hubbub":
            for state in active.values():
                self._hub.set_admin(state.name, state.admin)

    async def _dispatch_from_store(self, room: str, seq: int) -> None:
        try:
            messages = await self._store.after(room, seq - 1, 1)
        except Exception:
            log.exception("cannot read message %s/%d; subscribers will fill the gap later", room, seq)
            return
        for message in messages:
            self._hub.dispatch(RoomEvent(room, encode(MessageEvent.of(message)), seq=message.seq))

    def _on_broker_reconnect(self) -> None:
        metrics.BROKER_RECONNECTS.inc()
        self._hub.resync()
        self._presence.on_broker_reconnect()

    def _notify_presence(self, room: str, event: PresenceEvent) -> int:
        return self._hub.dispatch(RoomEvent(room, encode(event), droppable=False))
