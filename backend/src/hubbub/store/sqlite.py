"""SQLite store: the embedded default. WAL mode so several worker processes can share the file."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from hubbub.store import sqlite_changes as changes
from hubbub.store import sqlite_rooms as rooms
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
from hubbub.store.sqlite_schema import migrate

T = TypeVar("T")
_row_to_message = message_from_row


class SQLiteStore:
    """All SQLite work happens on one thread of its own, one whole operation per hop: a message
    costs one round trip from the event loop, not one per statement."""

    def __init__(self, path: str, synchronous: str = "full") -> None:
        self._path = path
        self._synchronous = synchronous
        self._db: sqlite3.Connection | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hubbub-sqlite")

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)
        except sqlite3.Error as exc:
            raise StoreUnavailableError(str(exc)) from exc

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreUnavailableError("store is not started")
        return self._db

    def _open(self) -> None:
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # Only the server's user may read the history; SQLite gives the -wal and -shm
            # files the database file's permissions.
            os.close(os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600))
            os.chmod(self._path, 0o600)
        # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE below).
        db = sqlite3.connect(self._path, isolation_level=None, timeout=30, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on the disk before the ack (docs/reliability.md); NORMAL: in WAL.
        db.execute(f"PRAGMA synchronous={'FULL' if self._synchronous == 'full' else 'NORMAL'}")
        db.execute("PRAGMA busy_timeout=30000")
        migrate(db)
        self._db = db

    async def start(self) -> None:
        await self._run(self._open)

    async def close(self) -> None:
        if self._db is not None:
            await self._run(self.db.close)
            self._db = None
        self._thread.shutdown(wait=True)

    async def ping(self) -> None:
        await self._run(self.db.execute, "SELECT 1")

    # --- rooms, members, users (sqlite_rooms.py)
    async def ensure_room(self, name: str) -> bool:
        return await self._run(rooms.ensure_room, self.db, name)

    async def create_room(self, room: NewRoom) -> RoomInfo | None:
        return await self._run(rooms.create_room, self.db, room)

    async def rooms_created_by(self, user: str) -> int:
        return await self._run(rooms.rooms_created_by, self.db, user)

    async def room(self, name: str, user: str | None = None) -> RoomInfo | None:
        return await self._run(rooms.room_info, self.db, name, user)

    async def find_dm(self, dm_key: str, user: str) -> RoomInfo | None:
        return await self._run(rooms.find_dm, self.db, dm_key, user)

    async def rooms_for(self, user: str | None, archived: bool = False) -> list[RoomInfo]:
        return await self._run(rooms.rooms_for, self.db, user, archived)

    async def update_room(self, name: str, topic: str | None = None, archived: bool | None = None) -> None:
        await self._run(rooms.update_room, self.db, name, topic, archived)

    async def members(self, room: str, after: str | None = None, limit: int | None = None) -> list[Member]:
        return await self._run(rooms.members, self.db, room, after, limit)

    async def add_members(self, room: str, users: Sequence[str], role: str = MEMBER) -> list[str]:
        return await self._run(rooms.add_members, self.db, room, users, role)

    async def remove_member(self, room: str, user: str) -> bool:
        return await self._run(rooms.remove_member, self.db, room, user)

    async def count_members(self, room: str) -> int:
        return await self._run(rooms.count_members, self.db, room)

    async def members_among(self, room: str, names: Sequence[str]) -> list[str]:
        return await self._run(rooms.members_among, self.db, room, names) if names else []

    async def member_rooms(self, user: str) -> list[str]:
        return await self._run(rooms.member_rooms, self.db, user)

    async def mark_read(self, room: str, user: str, seq: int) -> int | None:
        return await self._run(rooms.mark_read, self.db, room, user, seq)

    async def touch_users(self, names: Sequence[str]) -> None:
        if names:
            await self._run(rooms.touch_users, self.db, names)

    async def known_users(self, names: Sequence[str]) -> set[str]:
        return await self._run(rooms.known_users, self.db, names) if names else set()

    async def find_users(self, prefix: str, limit: int) -> list[str]:
        return await self._run(rooms.find_users, self.db, prefix, limit)

    # --- messages
    def _room_head(self, name: str) -> int | None:
        row = self.db.execute("SELECT head FROM rooms WHERE name = ?", (name,)).fetchone()
        return None if row is None else int(row[0])

    async def room_head(self, name: str) -> int | None:
        return await self._run(self._room_head, name)

    async def append_many(self, drafts: Sequence[Draft]) -> list[Appended]:
        return await self._run(self._append_many, drafts)

    def _append_many(self, drafts: Sequence[Draft]) -> list[Appended]:
        db = self.db
        # IMMEDIATE takes the write lock up front: sequence numbers commit in order across processes.
        db.execute("BEGIN IMMEDIATE")
        try:
            results = [self._append_isolated(db, draft) for draft in drafts]
            db.execute("COMMIT")
            return results
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    @classmethod
    def _append_isolated(cls, db: sqlite3.Connection, draft: Draft) -> Appended:
        """One draft inside a savepoint: what the store refuses of it is undone, and only it fails.
        An OperationalError (locked, disk full, I/O) is the store's, not the draft's: it fails
        the batch."""
        db.execute("SAVEPOINT draft")
        try:
            result = cls._append_one(db, draft)
        except sqlite3.OperationalError:
            raise
        except Exception as exc:  # a constraint, a trigger, a value SQLite cannot hold
            db.execute("ROLLBACK TO draft")
            result = MessageRejectedError(f"{type(exc).__name__}: {exc}")
        db.execute("RELEASE draft")
        return result

    @staticmethod
    def _append_one(db: sqlite3.Connection, draft: Draft) -> Appended:
        refused = rooms.check_author(db, draft.room, draft.author)
        if refused in OUTSIDERS:  # before the retry's lookup: a removed author gets no message back
            return REFUSALS[refused](draft.room)
        if draft.client_msg_id is not None:
            existing = db.execute(
                f"SELECT {COLUMNS} FROM messages "  # noqa: S608 - constant column list
                "WHERE room = ? AND author = ? AND client_msg_id = ?",
                (draft.room, draft.author, draft.client_msg_id),
            ).fetchone()
            if existing is not None:
                return _row_to_message(existing), False
        if refused is not None:
            return REFUSALS[refused](draft.room)
        head_row = db.execute(
            "UPDATE rooms SET head = head + 1 WHERE name = ? RETURNING head", (draft.room,)
        ).fetchone()
        message = draft.stored(int(head_row[0]))
        db.execute(
            f"INSERT INTO messages ({INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
            message.row(),
        )
        db.executemany(
            "INSERT INTO mentions (user, room, seq) VALUES (?, ?, ?)",
            [(user, message.room, message.seq) for user in message.mentions if user != message.author],
        )
        return message, True

    def _select(self, sql: str, args: tuple[Any, ...]) -> list[StoredMessage]:
        return [_row_to_message(row) for row in self.db.execute(sql, args)]

    async def after(self, room: str, after_seq: int, limit: int) -> list[StoredMessage]:
        return await self._run(
            self._select,
            f"SELECT {COLUMNS} FROM messages WHERE room = ? AND seq > ? ORDER BY seq LIMIT ?",  # noqa: S608
            (room, after_seq, limit),
        )

    async def before(self, room: str, before_seq: int | None, limit: int) -> list[StoredMessage]:
        bound = before_seq if before_seq is not None else 2**62
        rows = await self._run(
            self._select,
            f"SELECT {COLUMNS} FROM messages WHERE room = ? AND seq < ? ORDER BY seq DESC LIMIT ?",  # noqa: S608
            (room, bound, limit),
        )
        rows.reverse()
        return rows

    # --- the message lifecycle and bots (sqlite_changes.py)
    async def message(self, room: str, message_id: str) -> StoredMessage | None:
        return await self._run(changes.message, self.db, room, message_id)

    async def change_message(self, room: str, message_id: str, change: MessageChange) -> StoredMessage | None:
        return await self._run(self._in_transaction, changes.change_message, room, message_id, change)

    def _in_transaction(self, fn: Callable[..., T], *args: Any) -> T:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            result = fn(db, *args)
            db.execute("COMMIT")
            return result
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    async def room_changes(self, room: str) -> int:
        return await self._run(changes.room_changes, self.db, room)

    async def changed_since(
        self, room: str, after_change: int, after_seq: int, limit: int
    ) -> list[StoredMessage]:
        return await self._run(changes.changed_since, self.db, room, after_change, after_seq, limit)

    async def add_bot(self, name: str, token_hash: str) -> None:
        await self._run(self._in_transaction, changes.add_bot, name, token_hash)

    async def revoke_bot(self, name: str) -> bool:
        return await self._run(changes.revoke_bot, self.db, name)

    async def bot_for_token(self, token_hash: str) -> str | None:
        return await self._run(changes.bot_for_token, self.db, token_hash)

    async def bots(self) -> list[tuple[str, bool]]:
        return await self._run(changes.bots, self.db)

    def _create_session(self, record: SessionRecord) -> None:
        self.db.execute(
            "INSERT INTO sessions (id, user, expires_at, credential, admin) VALUES (?, ?, ?, ?, ?)",
            (record.id, record.user, record.expires_at, record.credential, int(record.admin)),
        )
        # Housekeeping rides on logins: expired sessions never pile up.
        self.db.execute("DELETE FROM sessions WHERE expires_at < ?", (time.time(),))

    async def create_session(self, record: SessionRecord) -> None:
        await self._run(self._create_session, record)

    def _get_session(self, session_id: str) -> SessionRecord | None:
        row = self.db.execute(
            "SELECT id, user, expires_at, credential, admin FROM sessions WHERE id = ?", (session_id,)
        ).fetchone()
        if row is None or float(row[2]) < time.time():
            return None
        return SessionRecord(str(row[0]), str(row[1]), float(row[2]), row[3], bool(row[4]))

    async def get_session(self, session_id: str) -> SessionRecord | None:
        return await self._run(self._get_session, session_id)

    async def delete_session(self, session_id: str) -> None:
        await self._run(self.db.execute, "DELETE FROM sessions WHERE id = ?", (session_id,))
