"""What the units of work share: the one construct SQLAlchemy spells per dialect though both
databases write it the same (INSERT ... ON CONFLICT), and the clock."""

from __future__ import annotations

import time

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def upsert(conn: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that takes .on_conflict_do_nothing() and .on_conflict_do_update()."""
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table)
    return postgresql.insert(table)


def now_ms() -> int:
    return int(time.time() * 1000)
