"""Message stores, chosen by URL scheme: one Store (database.py) over SQLite or PostgreSQL."""

from __future__ import annotations

from hubbub.model import (
    COUNT_CAP,
    DM,
    MAX_REACTION_KINDS,
    MEMBER,
    OWNER,
    PRIVATE,
    PUBLIC,
    ROOM_MENTION,
    Appended,
    AppendError,
    Delete,
    Draft,
    Edit,
    Member,
    MessageChange,
    MessageRejectedError,
    NewRoom,
    NotMemberError,
    React,
    Reaction,
    RoomArchivedError,
    RoomInfo,
    SessionRecord,
    StoredMessage,
    StoreUnavailableError,
    TooManyReactionsError,
    UnknownMessageError,
    UnknownRoomError,
)
from hubbub.store.base import Store

# The domain's names stay importable from here (they lived here before hubbub.model).
__all__ = [
    "COUNT_CAP",
    "DM",
    "MAX_REACTION_KINDS",
    "MEMBER",
    "OWNER",
    "PRIVATE",
    "PUBLIC",
    "ROOM_MENTION",
    "AppendError",
    "Appended",
    "Delete",
    "Draft",
    "Edit",
    "Member",
    "MessageChange",
    "MessageRejectedError",
    "NewRoom",
    "NotMemberError",
    "React",
    "Reaction",
    "RoomArchivedError",
    "RoomInfo",
    "SessionRecord",
    "Store",
    "StoreUnavailableError",
    "StoredMessage",
    "TooManyReactionsError",
    "UnknownMessageError",
    "UnknownRoomError",
    "create_store",
]


def create_store(url: str, sqlite_synchronous: str = "full") -> Store:
    scheme = url.split("://", 1)[0].split("+", 1)[0]
    if scheme == "sqlite":
        from hubbub.store.sqlite import SQLiteStore

        # SQLAlchemy's convention: sqlite:///relative/path, sqlite:////absolute/path
        return SQLiteStore(url.split(":///", 1)[1] if ":///" in url else ":memory:", sqlite_synchronous)
    if scheme in {"postgres", "postgresql"}:
        from hubbub.store.postgres import PostgresStore

        return PostgresStore(url)
    raise ValueError(f"unsupported database URL scheme {scheme!r}: use sqlite:// or postgresql://")
