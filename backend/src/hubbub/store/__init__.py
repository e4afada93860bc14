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
from hubbub.store.schema import SchemaTooNewError, SchemaVersion

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
    "SchemaTooNewError",
    "SchemaVersion",
    "SessionRecord",
    "Store",
    "StoreUnavailableError",
    "StoredMessage",
    "TooManyReactionsError",
    "UnknownMessageError",
    "UnknownRoomError",
    "create_store",
    "schema_version",
]


def _scheme(url: str) -> str:
    scheme = url.split("://", 1)[0].split("+", 1)[0]
    if scheme not in {"sqlite", "postgres", "postgresql"}:
        raise ValueError(f"unsupported database URL scheme {scheme!r}: use sqlite:// or postgresql://")
    return scheme


def _sqlite_path(url: str) -> str:
    # SQLAlchemy's convention: sqlite:///relative/path, sqlite:////absolute/path
    return url.split(":///", 1)[1] if ":///" in url else ":memory:"


def create_store(url: str, sqlite_synchronous: str = "full") -> Store:
    """The store for a database URL; start() connects and brings its schema up to date."""
    if _scheme(url) == "sqlite":
        from hubbub.store.sqlite import SQLiteStore

        return SQLiteStore(_sqlite_path(url), sqlite_synchronous)
    from hubbub.store.postgres import PostgresStore

    return PostgresStore(url)


async def schema_version(url: str) -> SchemaVersion:
    """The database's schema revision and the newest this Hubbub knows, read without migrating
    (`hubbub db-version`)."""
    if _scheme(url) == "sqlite":
        from hubbub.store import sqlite

        return await sqlite.schema_version(_sqlite_path(url))
    from hubbub.store import postgres

    return await postgres.schema_version(url)
