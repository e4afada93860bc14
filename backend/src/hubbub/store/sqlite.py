"""SQLite store: the embedded default. WAL mode so several worker processes can share the file."""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from pathlib import Path

import aiosqlite

from hubbub.store.base import (
    RoomInfo,
    SessionRecord,
    StoredMessage,
    StoreUnavailableError,
    UnknownRoomError,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS rooms (
    name TEXT PRIMARY KEY,
    head INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    room TEXT NOT NULL REFERENCES rooms(name),
    seq INTEGER NOT NULL,
    id TEXT NOT NULL UNIQUE,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    ts INTEGER NOT NULL,
    client_msg_id TEXT,
    client_id INTEGER,
    PRIMARY KEY (room, seq)
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_idempotency
    ON messages (room, author, client_msg_id) WHERE client_msg_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    expires_at REAL NOT NULL
);
"""

COLUMNS = "room, seq, id, author, body, ts, client_msg_id, client_id"


def _row_to_message(row: sqlite3.Row) -> StoredMessage:
    room, seq, id_, author, body, ts, client_msg_id, client_id = row
    return StoredMessage(room, seq, id_, author, body, ts, client_msg_id, client_id)


class SQLiteStore:
    def __init__(self, path: str) -> None:
        self._path = path
        self._db: aiosqlite.Connection | None = None
        # One connection is shared by all coroutines of a worker; a transaction must not interleave.
        self._write_lock = asyncio.Lock()

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StoreUnavailableError("store is not started")
        return self._db

    async def start(self) -> None:
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        self._db = await aiosqlite.connect(self._path, isolation_level=None, timeout=30)
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.execute("PRAGMA synchronous=NORMAL")
        await self._db.execute("PRAGMA busy_timeout=30000")
        await self._db.executescript(SCHEMA)

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def ping(self) -> None:
        try:
            await self.db.execute("SELECT 1")
        except (sqlite3.Error, ValueError) as exc:
            raise StoreUnavailableError(str(exc)) from exc

    async def ensure_room(self, name: str) -> bool:
        async with self._write_lock:
            cursor = await self.db.execute(
                "INSERT INTO rooms (name, head, created_at) VALUES (?, 0, ?) ON CONFLICT (name) DO NOTHING",
                (name, int(time.time() * 1000)),
            )
            return cursor.rowcount == 1

    async def rooms(self) -> list[RoomInfo]:
        async with self.db.execute("SELECT name, head FROM rooms ORDER BY name") as cursor:
            return [RoomInfo(str(name), int(head)) async for name, head in cursor]

    async def room_head(self, name: str) -> int | None:
        async with self.db.execute("SELECT head FROM rooms WHERE name = ?", (name,)) as cursor:
            row = await cursor.fetchone()
        return None if row is None else int(row[0])

    async def append(
        self,
        room: str,
        author: str,
        body: str,
        client_msg_id: str | None = None,
        client_id: int | None = None,
    ) -> tuple[StoredMessage, bool]:
        async with self._write_lock:
            try:
                return await self._append_locked(room, author, body, client_msg_id, client_id)
            except sqlite3.Error as exc:
                raise StoreUnavailableError(str(exc)) from exc

    async def _append_locked(
        self,
        room: str,
        author: str,
        body: str,
        client_msg_id: str | None,
        client_id: int | None,
    ) -> tuple[StoredMessage, bool]:
        db = self.db
        # IMMEDIATE takes the write lock up front: sequence numbers commit in order across processes.
        await db.execute("BEGIN IMMEDIATE")
        try:
            if client_msg_id is not None:
                async with db.execute(
                    f"SELECT {COLUMNS} FROM messages "  # noqa: S608 - constant column list
                    "WHERE room = ? AND author = ? AND client_msg_id = ?",
                    (room, author, client_msg_id),
                ) as cursor:
                    existing = await cursor.fetchone()
                if existing is not None:
                    await db.execute("COMMIT")
                    return _row_to_message(existing), False
            async with db.execute(
                "UPDATE rooms SET head = head + 1 WHERE name = ? RETURNING head", (room,)
            ) as cursor:
                head_row = await cursor.fetchone()
            if head_row is None:
                await db.execute("ROLLBACK")
                raise UnknownRoomError(room)
            message = StoredMessage(
                room=room,
                seq=int(head_row[0]),
                id=uuid.uuid4().hex,
                author=author,
                body=body,
                ts=int(time.time() * 1000),
                client_msg_id=client_msg_id,
                client_id=client_id,
            )
            await db.execute(
                f"INSERT INTO messages ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                (
                    message.room,
                    message.seq,
                    message.id,
                    message.author,
                    message.body,
                    message.ts,
                    message.client_msg_id,
                    message.client_id,
                ),
            )
            await db.execute("COMMIT")
            return message, True
        except BaseException:
            if db.in_transaction:
                await db.execute("ROLLBACK")
            raise

    async def after(self, room: str, after_seq: int, limit: int) -> list[StoredMessage]:
        async with self.db.execute(
            f"SELECT {COLUMNS} FROM messages WHERE room = ? AND seq > ? "  # noqa: S608
            "ORDER BY seq LIMIT ?",
            (room, after_seq, limit),
        ) as cursor:
            return [_row_to_message(row) async for row in cursor]

    async def before(self, room: str, before_seq: int | None, limit: int) -> list[StoredMessage]:
        bound = before_seq if before_seq is not None else 2**62
        async with self.db.execute(
            f"SELECT {COLUMNS} FROM messages WHERE room = ? AND seq < ? "  # noqa: S608
            "ORDER BY seq DESC LIMIT ?",
            (room, bound, limit),
        ) as cursor:
            rows = [_row_to_message(row) async for row in cursor]
        rows.reverse()
        return rows

    async def create_session(self, record: SessionRecord) -> None:
        async with self._write_lock:
            await self.db.execute(
                "INSERT INTO sessions (id, user, expires_at) VALUES (?, ?, ?)",
                (record.id, record.user, record.expires_at),
            )
            # Housekeeping rides on logins: expired sessions never pile up.
            await self.db.execute("DELETE FROM sessions WHERE expires_at < ?", (time.time(),))

    async def get_session(self, session_id: str) -> SessionRecord | None:
        async with self.db.execute(
            "SELECT id, user, expires_at FROM sessions WHERE id = ?", (session_id,)
        ) as cursor:
            row = await cursor.fetchone()
        if row is None or float(row[2]) < time.time():
            return None
        return SessionRecord(str(row[0]), str(row[1]), float(row[2]))

    async def delete_session(self, session_id: str) -> None:
        async with self._write_lock:
            await self.db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
