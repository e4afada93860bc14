"""How the units of work run their statements: each built once, at import, as a SQLAlchemy Core
construct with named bind parameters (`Statement`), and compiled once per database.

Their SQL then runs as it is: building and executing a statement through SQLAlchemy's
Connection costs 30-170 µs of CPU, ten times what SQLite itself takes, and appending a message
runs seven of them on the one thread every message waits for (docs/benchmarks.md). SQLite
runs them straight on the driver's connection; PostgreSQL through exec_driver_sql, so that
its errors come out as SQLAlchemy's (Dialect.failed reads them). Values go to the driver as
they are: str, int, float, bool, None (no SQLAlchemy type conversions; a flag reads back from
SQLite as 0 or 1).
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ClauseElement, Executable


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the bind parameters, in the order the SQL takes them
    defaults: Mapping[str, Any]  # values bound in the construct itself (literals)
    expanding: bool  # an IN list of as many parameters as values: SQLAlchemy renders it per call


Insert = Callable[[Table], postgresql.Insert | sqlite.Insert]


class Statement:
    """A statement built once; run it with ``run(conn, statement, name=value, ...)``. An
    INSERT ... ON CONFLICT is built by a function given that dialect's ``insert`` (SQLAlchemy
    has one per dialect, though both databases write it the same)."""

    __slots__ = ("_build", "_compiled", "_constructs")

    def __init__(
        self, construct: Executable | None = None, *, upsert: Callable[[Insert], Executable] | None = None
    ):
        assert (construct is None) != (upsert is None)
        self._build = upsert
        self._constructs: dict[str, Executable] = {} if construct is None else {"": construct}
        self._compiled: dict[str, _Compiled] = {}

    def construct(self, dialect: str) -> Executable:
        found = self._constructs.get("")
        if found is None:
            found = self._constructs.get(dialect)
        if found is None:
            assert self._build is not None
            found = self._build(sqlite.insert if dialect == "sqlite" else postgresql.insert)
            self._constructs[dialect] = found
        return found

    def compiled(self, conn: Connection) -> _Compiled:
        found = self._compiled.get(conn.dialect.name)
        if found is None:
            construct = self.construct(conn.dialect.name)
            assert isinstance(construct, ClauseElement)
            compiled = construct.compile(dialect=conn.dialect)
            found = _Compiled(
                str(compiled),
                tuple(getattr(compiled, "positiontup", None) or ()),
                dict(compiled.params),
                bool(getattr(compiled, "post_compile_params", None)),
            )
            self._compiled[conn.dialect.name] = found
        return found


@dataclass(frozen=True, slots=True)
class Done:
    """What running a statement came to: the rows it returned, the rows it changed."""

    rows: list[tuple[Any, ...]]
    rowcount: int

    def first(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None

    def scalars(self) -> list[Any]:
        return [row[0] for row in self.rows]


def driver_of(conn: Connection) -> sqlite3.Connection:
    """SQLite's own connection under SQLAlchemy's."""
    driver: sqlite3.Connection = conn.connection.driver_connection  # type: ignore[assignment]
    return driver


def run(conn: Connection, statement: Statement, /, **params: Any) -> Done:
    compiled = statement.compiled(conn)
    if compiled.expanding:
        result = conn.execute(statement.construct(conn.dialect.name), params)
        return Done([tuple(row) for row in result] if result.returns_rows else [], result.rowcount)
    args = tuple(params[n] if n in params else compiled.defaults[n] for n in compiled.names)
    if conn.dialect.name == "sqlite":
        cursor = driver_of(conn).execute(compiled.sql, args)
        return Done(cursor.fetchall(), cursor.rowcount)
    result = conn.exec_driver_sql(compiled.sql, args)
    return Done([tuple(row) for row in result] if result.returns_rows else [], result.rowcount)


def run_many(conn: Connection, statement: Statement, rows: Sequence[Mapping[str, Any]]) -> None:
    """The statement once per row of parameters (executemany)."""
    if not rows:
        return
    compiled = statement.compiled(conn)
    args = [tuple(row[n] if n in row else compiled.defaults[n] for n in compiled.names) for row in rows]
    if conn.dialect.name == "sqlite":
        driver_of(conn).executemany(compiled.sql, args)
    else:
        conn.exec_driver_sql(compiled.sql, args)


@contextlib.contextmanager
def savepoint(conn: Connection) -> Iterator[None]:
    """What runs inside is undone, alone, if it raises."""
    if conn.dialect.name != "sqlite":
        with conn.begin_nested():
            yield
        return
    driver = driver_of(conn)
    driver.execute("SAVEPOINT hubbub")
    try:
        yield
    except BaseException:
        # The error that got here is the one to tell; the transaction ends with it anyway if
        # the database cannot even roll back to the savepoint.
        with contextlib.suppress(sqlite3.Error):
            driver.execute("ROLLBACK TO hubbub")
            driver.execute("RELEASE hubbub")
        raise
    driver.execute("RELEASE hubbub")


def now_ms() -> int:
    return int(time.time() * 1000)
