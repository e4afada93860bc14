"""PostgreSQL store (asyncpg), for several replicas sharing one history."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import asyncpg

from hubbub.store import postgres_changes as changes
from hubbub.store import postgres_rooms as rooms
from hubbub.store.base import (
    COLUMNS,
    INSERT_COLUMNS,
    MEMBER,
    OUTSIDERS,
    REFUSALS,
    Appended,
    Draft,
    Member,
    MessageChange,
    MessageRejectedError,
    NewRoom,
    RoomInfo,
    SessionRecord,
    StoredMessage,
    StoreUnavailableError,
    message_from_row,
)
from hubbub.store.postgres_schema import migrate

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    Conn = PoolConnectionProxy[asyncpg.Record]


# Errors that mean "the database is not there right now", as opposed to a bug in a query.
UNAVAILABLE = (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError)


def _record_to_message(record: asyncpg.Record) -> StoredMessage:
    return message_from_row(tuple(record.values()))


class PostgresStore:
    def __init__(self, url: str) -> None:
        self._url = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self._pool: asyncpg.Pool | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StoreUnavailableError("store is not started")
        return self._pool

    async def start(self) -> None:
        self._pool = await asyncpg.create_pool(self._url, min_size=1, max_size=10)
        async with self._pool.acquire() as conn, conn.transaction():
            await migrate(conn)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def ping(self) -> None:
        try:
            await self.pool.fetchval("SELECT 1", timeout=2)
        except (*UNAVAILABLE, TimeoutError) as exc:
            raise StoreUnavailableError(str(exc)) from exc

    # --- rooms, members, users (postgres_rooms.py)
    async def ensure_room(self, name: str) -> bool:
        return await rooms.ensure_room(self.pool, name)

    async def create_room(self, room: NewRoom) -> RoomInfo | None:
        return await rooms.create_room(self.pool, room)

    async def rooms_created_by(self, user: str) -> int:
        count = await self.pool.fetchval("SELECT count(*) FROM hubbub_rooms WHERE created_by = $1", user)
        return int(count)

    async def room(self, name: str, user: str | None = None) -> RoomInfo | None:
        return await rooms.room_info(self.pool, name, user)

    async def find_dm(self, dm_key: str, user: str) -> RoomInfo | None:
        return await rooms.find_dm(self.pool, dm_key, user)

    async def rooms_for(self, user: str | None, archived: bool = False) -> list[RoomInfo]:
        return await rooms.rooms_for(self.pool, user, archived)

    async def update_room(self, name: str, topic: str | None = None, archived: bool | None = None) -> None:
        await rooms.update_room(self.pool, name, topic, archived)

    async def members(self, room: str, after: str | None = None, limit: int | None = None) -> list[Member]:
        return await rooms.members(self.pool, room, after, limit)

    async def add_members(self, room: str, users: Sequence[str], role: str = MEMBER) -> list[str]:
        return await rooms.add_members(self.pool, room, users, role)

    async def remove_member(self, room: str, user: str) -> bool:
        return await rooms.remove_member(self.pool, room, user)

    async def count_members(self, room: str) -> int:
        return await rooms.count_members(self.pool, room)

    async def members_among(self, room: str, names: Sequence[str]) -> list[str]:
        return await rooms.members_among(self.pool, room, names) if names else []

    async def member_rooms(self, user: str) -> list[str]:
        return await rooms.member_rooms(self.pool, user)

    async def mark_read(self, room: str, user: str, seq: int) -> int | None:
        return await rooms.mark_read(self.pool, room, user, seq)

    async def touch_users(self, names: Sequence[str]) -> None:
        if names:
            await rooms.touch_users(self.pool, names)

    async def known_users(self, names: Sequence[str]) -> set[str]:
        return await rooms.known_users(self.pool, names) if names else set()

    async def find_users(self, prefix: str, limit: int) -> list[str]:
        return await rooms.find_users(self.pool, prefix, limit)

    # --- messages
    async def room_head(self, name: str) -> int | None:
        head = await self.pool.fetchval("SELECT head FROM hubbub_rooms WHERE name = $1", name)
        return None if head is None else int(head)

    async def append_many(self, drafts: Sequence[Draft]) -> list[Appended]:
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                # Lock every room of the batch up front and in one order: the row locks are held
                # until commit, so sequence numbers commit in order (a reader that sees seq N
                # sees every seq below it), and two workers' batches cannot deadlock.
                await conn.execute(
                    "SELECT 1 FROM hubbub_rooms WHERE name = ANY($1::text[]) ORDER BY name FOR UPDATE",
                    sorted({draft.room for draft in drafts}),
                )
                return [await self._append_one(conn, draft) for draft in drafts]
        except UNAVAILABLE as exc:
            raise StoreUnavailableError(str(exc)) from exc

    async def _append_one(self, conn: Conn, draft: Draft) -> Appended:
        try:
            # A savepoint per draft: what the database refuses of one draft (a constraint, a
            # trigger, a value out of range, losing an idempotency race) is undone for it alone.
            async with conn.transaction():
                refused = await rooms.check_author(conn, draft.room, draft.author)
                if refused in OUTSIDERS:  # before the retry's lookup: a removed author gets nothing back
                    return REFUSALS[refused](draft.room)
                existing = await self._find(conn, draft)
                if existing is not None:
                    return existing, False
                if refused is not None:
                    return REFUSALS[refused](draft.room)
                return await self._insert(conn, draft)
        except UNAVAILABLE:
            raise
        except asyncpg.UniqueViolationError as exc:
            # Another worker stored the same client_msg_id first: return its message.
            existing = await self._find(conn, draft)
            if existing is None:
                return MessageRejectedError(f"{type(exc).__name__}: {exc}")
            return existing, False
        except (asyncpg.PostgresError, ValueError, OverflowError) as exc:
            return MessageRejectedError(f"{type(exc).__name__}: {exc}")

    @staticmethod
    async def _find(conn: Conn, draft: Draft) -> StoredMessage | None:
        if draft.client_msg_id is None:
            return None
        row = await conn.fetchrow(
            f"SELECT {COLUMNS} FROM hubbub_messages "  # noqa: S608 - constant column list
            "WHERE room = $1 AND author = $2 AND client_msg_id = $3",
            draft.room,
            draft.author,
            draft.client_msg_id,
        )
        return None if row is None else _record_to_message(row)

    @staticmethod
    async def _insert(conn: Conn, draft: Draft) -> Appended:
        head = await conn.fetchval(
            "UPDATE hubbub_rooms SET head = head + 1 WHERE name = $1 RETURNING head", draft.room
        )
        message = draft.stored(int(head))
        await conn.execute(
            f"INSERT INTO hubbub_messages ({INSERT_COLUMNS}) "  # noqa: S608
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            *message.row(),
        )
        mentioned = [user for user in message.mentions if user != message.author]
        if mentioned:
            await conn.executemany(
                'INSERT INTO hubbub_mentions ("user", room, seq) VALUES ($1, $2, $3)',
                [(user, message.room, message.seq) for user in mentioned],
            )
        return message, True

    async def after(self, room: str, after_seq: int, limit: int) -> list[StoredMessage]:
        rows = await self.pool.fetch(
            f"SELECT {COLUMNS} FROM hubbub_messages WHERE room = $1 AND seq > $2 "  # noqa: S608
            "ORDER BY seq LIMIT $3",
            room,
            after_seq,
            limit,
        )
        return [_record_to_message(r) for r in rows]

    async def before(self, room: str, before_seq: int | None, limit: int) -> list[StoredMessage]:
        rows = await self.pool.fetch(
            f"SELECT {COLUMNS} FROM hubbub_messages WHERE room = $1 AND seq < $2 "  # noqa: S608
            "ORDER BY seq DESC LIMIT $3",
            room,
            before_seq if before_seq is not None else 2**62,
            limit,
        )
        return [_record_to_message(r) for r in reversed(rows)]

    # --- the message lifecycle and bots (postgres_changes.py)
    async def message(self, room: str, message_id: str) -> StoredMessage | None:
        async with self.pool.acquire() as conn:
            return await changes.message(conn, room, message_id)

    async def change_message(self, room: str, message_id: str, change: MessageChange) -> StoredMessage | None:
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                return await changes.change_message(conn, room, message_id, change)
        except UNAVAILABLE as exc:
            raise StoreUnavailableError(str(exc)) from exc

    async def room_changes(self, room: str) -> int:
        async with self.pool.acquire() as conn:
            return await changes.room_changes(conn, room)

    async def changed_since(
        self, room: str, after_change: int, after_seq: int, limit: int
    ) -> list[StoredMessage]:
        async with self.pool.acquire() as conn:
            return await changes.changed_since(conn, room, after_change, after_seq, limit)

    async def add_bot(self, name: str, token_hash: str) -> None:
        async with self.pool.acquire() as conn:
            await changes.add_bot(conn, name, token_hash)

    async def revoke_bot(self, name: str) -> bool:
        async with self.pool.acquire() as conn:
            return await changes.revoke_bot(conn, name)

    async def bot_for_token(self, token_hash: str) -> str | None:
        async with self.pool.acquire() as conn:
            return await changes.bot_for_token(conn, token_hash)

    async def bots(self) -> list[tuple[str, bool]]:
        async with self.pool.acquire() as conn:
            return await changes.bots(conn)

    async def create_session(self, record: SessionRecord) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(
                'INSERT INTO hubbub_sessions (id, "user", expires_at, credential, admin) '
                "VALUES ($1, $2, $3, $4, $5)",
                record.id,
                record.user,
                record.expires_at,
                record.credential,
                record.admin,
            )
            await conn.execute("DELETE FROM hubbub_sessions WHERE expires_at < $1", time.time())

    async def get_session(self, session_id: str) -> SessionRecord | None:
        row = await self.pool.fetchrow(
            'SELECT id, "user", expires_at, credential, admin FROM hubbub_sessions WHERE id = $1', session_id
        )
        if row is None or row["expires_at"] < time.time():
            return None
        return SessionRecord(row["id"], row["user"], row["expires_at"], row["credential"], row["admin"])

    async def delete_session(self, session_id: str) -> None:
        await self.pool.execute("DELETE FROM hubbub_sessions WHERE id = $1", session_id)
