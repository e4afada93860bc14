"""The SQLite store's message lifecycle: edits, tombstones, reactions and the change feed, and
bot tokens. Functions of one connection, run on the store's thread inside its transactions."""

from __future__ import annotations

import sqlite3
import time

from hubbub.store.base import (
    COLUMNS,
    MAX_REACTION_KINDS,
    Delete,
    Edit,
    MessageChange,
    React,
    RoomArchivedError,
    StoredMessage,
    TooManyReactionsError,
    UnknownMessageError,
    aggregate_reactions,
    message_from_row,
    reactions_to_json,
)


def message(db: sqlite3.Connection, room: str, message_id: str) -> StoredMessage | None:
    row = db.execute(
        f"SELECT {COLUMNS} FROM messages WHERE room = ? AND id = ?",  # noqa: S608 - constant columns
        (room, message_id),
    ).fetchone()
    return None if row is None else message_from_row(row)


def change_message(
    db: sqlite3.Connection, room: str, message_id: str, change: MessageChange
) -> StoredMessage | None:
    """In the caller's transaction (BEGIN IMMEDIATE: change numbers commit in order)."""
    current = message(db, room, message_id)
    if current is None or current.deleted:
        raise UnknownMessageError(message_id)
    archived = db.execute("SELECT archived FROM rooms WHERE name = ?", (room,)).fetchone()
    if archived is not None and archived[0]:
        raise RoomArchivedError(room)
    now = int(time.time() * 1000)
    seq = current.seq
    if isinstance(change, Edit):
        if change.body == current.body:
            return None
        updates, args = "body = ?, edited_at = ?", [change.body, now]
    elif isinstance(change, Delete):
        db.execute("DELETE FROM reactions WHERE room = ? AND seq = ?", (room, seq))
        db.execute("DELETE FROM mentions WHERE room = ? AND seq = ?", (room, seq))
        updates, args = "body = '', deleted = 1, reactions = '[]', mentions = '[]'", []
    elif isinstance(change, React):
        if change.on:
            kinds = {
                str(row[0])
                for row in db.execute(
                    "SELECT DISTINCT emoji FROM reactions WHERE room = ? AND seq = ?", (room, seq)
                )
            }
            if change.emoji not in kinds and len(kinds) >= MAX_REACTION_KINDS:
                raise TooManyReactionsError(message_id)
            cursor = db.execute(
                "INSERT OR IGNORE INTO reactions (room, seq, emoji, user, at) VALUES (?, ?, ?, ?, ?)",
                (room, seq, change.emoji, change.user, now),
            )
        else:
            cursor = db.execute(
                "DELETE FROM reactions WHERE room = ? AND seq = ? AND emoji = ? AND user = ?",
                (room, seq, change.emoji, change.user),
            )
        if cursor.rowcount == 0:
            return None
        pairs = db.execute(
            "SELECT emoji, user FROM reactions WHERE room = ? AND seq = ? ORDER BY at, rowid", (room, seq)
        ).fetchall()
        updates, args = "reactions = ?", [reactions_to_json(aggregate_reactions(pairs))]
    number = db.execute(
        "UPDATE rooms SET change_head = change_head + 1 WHERE name = ? RETURNING change_head", (room,)
    ).fetchone()[0]
    db.execute(
        f"UPDATE messages SET {updates}, change_seq = ? WHERE room = ? AND seq = ?",  # noqa: S608
        (*args, number, room, seq),
    )
    return message(db, room, message_id)


def room_changes(db: sqlite3.Connection, room: str) -> int:
    row = db.execute("SELECT change_head FROM rooms WHERE name = ?", (room,)).fetchone()
    return 0 if row is None else int(row[0])


def changed_since(
    db: sqlite3.Connection, room: str, after_change: int, after_seq: int, limit: int
) -> list[StoredMessage]:
    rows = db.execute(
        f"SELECT {COLUMNS} FROM messages "  # noqa: S608
        "WHERE room = ? AND change_seq > ? AND seq > ? ORDER BY seq LIMIT ?",
        (room, after_change, after_seq, limit),
    )
    return [message_from_row(row) for row in rows]


def add_bot(db: sqlite3.Connection, name: str, token_hash: str) -> None:
    """A new bot, or a new token for a bot (the old one stops working)."""
    db.execute(
        "INSERT INTO bots (name, token_hash, created_at) VALUES (?, ?, ?) ON CONFLICT (name) "
        "DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at, revoked_at = NULL",
        (name, token_hash, int(time.time() * 1000)),
    )


def revoke_bot(db: sqlite3.Connection, name: str) -> bool:
    cursor = db.execute(
        "UPDATE bots SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
        (int(time.time() * 1000), name),
    )
    return cursor.rowcount > 0


def bot_for_token(db: sqlite3.Connection, token_hash: str) -> str | None:
    row = db.execute(
        "SELECT name FROM bots WHERE token_hash = ? AND revoked_at IS NULL", (token_hash,)
    ).fetchone()
    return None if row is None else str(row[0])


def bots(db: sqlite3.Connection) -> list[tuple[str, bool]]:
    return [
        (str(name), revoked is not None)
        for name, revoked in db.execute("SELECT name, revoked_at FROM bots ORDER BY name")
    ]
