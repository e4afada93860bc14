"""Bringing a database up to date: Alembic's migrations (hubbub/migrations/versions/), run when
the store starts, in the transaction that checks the version, so that a migration that fails
leaves the database as it was, and of several workers starting at once one migrates while the
others wait (the runner's write lock for SQLite, an advisory lock for PostgreSQL).

A database made before Alembic (by Hubbub's hand-kept lists, schema versions 0 to 4) is
adopted: what the old code named otherwise is renamed (Dialect.adopt_legacy), and Alembic's
version table is stamped with the revision matching its old version, so the upgrade continues
from there. A database whose revision this Hubbub does not know was made by a newer one: the
store refuses to start rather than guess.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, select

from hubbub.store.dialect import Dialect, dialect_of

if TYPE_CHECKING:  # Alembic is imported when a database is opened, not with every import of the store
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

VERSION_TABLE = "hubbub_alembic_version"
LEGACY_REVISIONS = ("0000", "0001", "0002", "0003", "0004")  # old schema version -> revision


class SchemaTooNewError(RuntimeError):
    """The database was migrated by a newer Hubbub than this one."""


@dataclass(frozen=True, slots=True)
class SchemaVersion:
    current: str | None  # the database's revision; None for an empty database
    head: str  # the newest revision this Hubbub knows

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def config(conn: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "hubbub:migrations")
    if conn is not None:
        cfg.attributes["connection"] = conn  # migrations/env.py runs on it
    return cfg


@functools.cache
def scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(config())


def head() -> str:
    found = scripts().get_current_head()
    assert found is not None
    return found


def _context(conn: Connection) -> MigrationContext:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})


def version(conn: Connection) -> SchemaVersion:
    """The database's revision (a database made before Alembic: the one it would be adopted
    at) and this Hubbub's newest. Reads only."""
    current = _context(conn).get_current_revision()
    if current is None:
        legacy = dialect_of(conn).legacy_version(conn)
        if legacy is not None:
            current = LEGACY_REVISIONS[legacy] if legacy < len(LEGACY_REVISIONS) else f"legacy {legacy}"
    return SchemaVersion(current, head())


def _check_known(current: str | None) -> None:
    from alembic.util import CommandError

    if current is None:
        return
    try:
        scripts().get_revision(current)
    except CommandError:
        raise SchemaTooNewError(
            f"the database's schema is at revision {current!r}, which this Hubbub does not know "
            f"(its newest is {head()!r}): it was upgraded by a newer Hubbub. Run that version, "
            "or restore a backup made before the upgrade."
        ) from None


def upgrade(conn: Connection, dialect: Dialect) -> SchemaVersion:
    """Bring the database up to date, inside the caller's transaction; returns its version."""
    dialect.lock_schema(conn)
    legacy = dialect.adopt_legacy(conn)
    if legacy is not None:
        if legacy >= len(LEGACY_REVISIONS):
            raise SchemaTooNewError(
                f"the database is at schema version {legacy}, newer than any this Hubbub knows: "
                "it was upgraded by a newer Hubbub"
            )
        _context(conn).stamp(scripts(), LEGACY_REVISIONS[legacy])
    _check_known(_context(conn).get_current_revision())
    from alembic import command

    command.upgrade(config(conn), "head")
    return version(conn)


def ping(conn: Connection) -> None:
    conn.execute(select(1)).close()
