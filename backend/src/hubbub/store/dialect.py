"""What truly differs between the databases, and nothing else: everything in store/work/ is
written once over SQLAlchemy Core and runs unchanged on both.

What differs: how a transaction makes a room's numbers (seq, change numbers) commit in order,
and how one worker migrates while the others wait (SQLite has one writer at a time, `BEGIN
IMMEDIATE` in sqlite.py; PostgreSQL locks the rooms' rows, and an advisory lock); which errors
mean "the database failed" (every draft of a batch fails, the caller retries) rather than "the
database refused this statement's data" (that draft alone fails, see work/messages.py); how
one text is found in another (search); and what the code before Alembic left behind. (The
search index itself differs too much for a method or two: store/search/.) The store contract suite
(tests/test_store_contract.py) holds both to the same semantics: gapless, in-order numbers
under concurrent batches, a refused draft failing alone; tests/test_migrations.py, adoption.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Collection
from typing import Protocol

from sqlalchemy import ColumnElement, Connection, func, inspect, select, text
from sqlalchemy import exc as sa_exc

from hubbub.store.tables import rooms

# PostgreSQL's SQLSTATE classes that are the server's or the connection's trouble, not a
# statement's: connection exception, insufficient resources, operator intervention (a
# shutdown), system error.
_SERVER_CLASSES = ("08", "53", "57", "58")
# The tables Hubbub made before Alembic; SQLite's had no prefix.
LEGACY_TABLES = ("rooms", "messages", "sessions", "members", "users", "mentions", "reactions", "bots")
MIGRATION_LOCK = 4242001  # PostgreSQL advisory lock key, as the code before Alembic used
USER_LOCKS = 4242  # PostgreSQL advisory locks per user: (USER_LOCKS, hashtext(name))


class Dialect(Protocol):
    def lock_rooms(self, conn: Connection, names: Collection[str]) -> None:
        """Until the transaction ends, no other transaction assigns numbers in these rooms.
        Taken in name order, so two batches touching the same rooms cannot deadlock."""
        ...

    def lock_user(self, conn: Connection, user: str) -> None:
        """Until the transaction ends, no other transaction takes this user's lock (what a
        user has in total, such as their uploads against their quota, is read and added to
        under it)."""
        ...

    def failed(self, exc: BaseException) -> bool:
        """True when the error is the database's (unreachable, locked, out of space): the
        whole transaction fails and nothing is written. False when it refused one statement's
        data (a constraint, a trigger, a value out of range)."""
        ...

    def lock_schema(self, conn: Connection) -> None:
        """Until the transaction ends, no other process migrates (or reads the version)."""
        ...

    def contains(self, text: ColumnElement[str], part: ColumnElement[str]) -> ColumnElement[bool]:
        """Whether the text has the part in it, character for character: no pattern, no
        collation, no case (search compares folded texts, store/work/search.py)."""
        ...

    def legacy_version(self, conn: Connection) -> int | None:
        """For a database made before Alembic, its old schema version (0 to 4); else None."""
        ...

    def adopt_legacy(self, conn: Connection) -> int | None:
        """For a database made before Alembic: rename what the old code named otherwise, and
        return its old schema version. None for any other database."""
        ...


class SQLiteDialect:
    def lock_rooms(self, conn: Connection, names: Collection[str]) -> None:
        """Nothing to do: the transaction began with BEGIN IMMEDIATE, the database's one write lock."""

    def lock_user(self, conn: Connection, user: str) -> None:
        """Nothing to do: the same one write lock."""

    def failed(self, exc: BaseException) -> bool:
        return isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sqlite3.OperationalError)

    def lock_schema(self, conn: Connection) -> None:
        """Nothing to do: migrations run in a BEGIN IMMEDIATE transaction."""

    def contains(self, text: ColumnElement[str], part: ColumnElement[str]) -> ColumnElement[bool]:
        return func.instr(text, part) > 0

    def legacy_version(self, conn: Connection) -> int | None:
        names = set(inspect(conn).get_table_names())
        if "rooms" not in names or "hubbub_rooms" in names:
            return None
        return int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())

    def adopt_legacy(self, conn: Connection) -> int | None:
        version = self.legacy_version(conn)
        if version is None:
            return None
        names = set(inspect(conn).get_table_names())
        for table in LEGACY_TABLES:
            if table in names:
                conn.exec_driver_sql(f'ALTER TABLE "{table}" RENAME TO "hubbub_{table}"')
        # Index names get the prefix too; SQLite renames an index only by making it again.
        indexes = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND name NOT LIKE 'hubbub!_%' ESCAPE '!'"
        ).all()
        for name, sql in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
            pattern = rf"(INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?)\"?{re.escape(name)}\"?"
            conn.exec_driver_sql(re.sub(pattern, rf"\g<1>hubbub_{name}", sql, count=1))
        return version


class PostgresDialect:
    def lock_rooms(self, conn: Connection, names: Collection[str]) -> None:
        # Row locks held until commit: a reader that sees number N sees every number below it.
        conn.execute(
            select(rooms.c.name)
            .where(rooms.c.name.in_(sorted(names)))
            .order_by(rooms.c.name)
            .with_for_update()
        )

    def lock_user(self, conn: Connection, user: str) -> None:
        # A user may have no row to lock yet (users are remembered in batches): an advisory
        # lock on the name's hash, in a key space of its own beside the migration lock's.
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:space, hashtext(:user))"), {"space": USER_LOCKS, "user": user}
        )

    def failed(self, exc: BaseException) -> bool:
        if isinstance(exc, OSError | TimeoutError | sa_exc.InterfaceError | sa_exc.OperationalError):
            return True
        if isinstance(exc, sa_exc.DBAPIError):
            if exc.connection_invalidated:
                return True
            code = str(getattr(exc.orig, "sqlstate", "") or getattr(exc.orig, "pgcode", "") or "")
            return code[:2] in _SERVER_CLASSES
        return False

    def lock_schema(self, conn: Connection) -> None:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})

    def contains(self, text: ColumnElement[str], part: ColumnElement[str]) -> ColumnElement[bool]:
        return func.strpos(text, part) > 0

    def legacy_version(self, conn: Connection) -> int | None:
        # Its tables had today's names already; its version was in a table of its own.
        names = set(inspect(conn).get_table_names())
        if "hubbub_rooms" not in names or "hubbub_alembic_version" in names:
            return None
        if "hubbub_schema" not in names:
            return 0  # the first release kept no version
        return int(conn.execute(text("SELECT max(version) FROM hubbub_schema")).scalar() or 0)

    def adopt_legacy(self, conn: Connection) -> int | None:
        version = self.legacy_version(conn)
        if version is not None:
            conn.execute(text("DROP TABLE IF EXISTS hubbub_schema"))
        return version


def dialect_of(conn: Connection) -> Dialect:
    return SQLiteDialect() if conn.dialect.name == "sqlite" else PostgresDialect()
