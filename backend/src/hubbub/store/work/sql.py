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
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ClauseElement, Executable


class _Compiled:
    __slots__ = ("defaults", "expanding", "names", "sql")

    def __init__(self, sql: str, names: tuple[str, ...], defaults: dict[str, Any], expanding: bool) -> None:
        self.sql = sql
        self.names = names  # the bind parameters, in the order the SQL takes them
        self.defaults = defaults  # values bound in the construct itself (literals)
        self.expanding = expanding  # an IN list of as many parameters as values: rendered per call

    def args(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        values = {**self.defaults, **params} if self.defaults else params
        return tuple(map(values.__getitem__, self.names))


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


class Done:
    """What running a statement came to: the rows it returned, the rows it changed."""

    __slots__ = ("rowcount", "rows")

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int) -> None:
        self.rows = rows
        self.rowcount = rowcount

    def first(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None

    def scalars(self) -> list[Any]:
        return [row[0] for row in self.rows]


_drivers: weakref.WeakKeyDictionary[Connection, sqlite3.Connection] = weakref.WeakKeyDictionary()


def driver_of(conn: Connection) -> sqlite3.Connection:
    """SQLite's own connection under SQLAlchemy's (looked up once per connection: through
    SQLAlchemy's pool proxies it costs as much as a short statement)."""
    driver = _drivers.get(conn)
    if driver is None:
        driver = _drivers[conn] = conn.connection.driver_connection  # type: ignore[assignment]
    return driver  # type: ignore[return-value]


def run(conn: Connection, statement: Statement, /, **params: Any) -> Done:
    dialect = conn.dialect.name
    compiled = statement._compiled.get(dialect) or statement.compiled(conn)
    if compiled.expanding:
        result = conn.execute(statement.construct(dialect), params)
        return Done([tuple(row) for row in result] if result.returns_rows else [], result.rowcount)
    if dialect == "sqlite":
        cursor = driver_of(conn).execute(compiled.sql, compiled.args(params))
        return Done(cursor.fetchall(), cursor.rowcount)
    result = conn.exec_driver_sql(compiled.sql, compiled.args(params))
    return Done([tuple(row) for row in result] if result.returns_rows else [], result.rowcount)


def run_many(conn: Connection, statement: Statement, rows: Sequence[Mapping[str, Any]]) -> None:
    """The statement once per row of parameters (executemany)."""
    if not rows:
        return
    compiled = statement.compiled(conn)
    args = [compiled.args(row) for row in rows]
    if conn.dialect.name == "sqlite":
        driver_of(conn).executemany(compiled.sql, args)
    else:
        conn.exec_driver_sql(compiled.sql, args)


class savepoint:
    """What runs inside is undone, alone, if it raises. (A class: a generator-based context
    manager costs more than the statements it wraps, once per message.)"""

    __slots__ = ("_conn", "_nested")

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._nested: Any = None

    def __enter__(self) -> None:
        if self._conn.dialect.name != "sqlite":
            self._nested = self._conn.begin_nested()
            self._nested.__enter__()
            return
        driver_of(self._conn).execute("SAVEPOINT hubbub")

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if self._nested is not None:
            self._nested.__exit__(kind, exc, tb)
            return
        driver = driver_of(self._conn)
        if kind is None:
            driver.execute("RELEASE hubbub")
            return
        # The error that got here is the one to tell; the transaction ends with it anyway if
        # the database cannot even roll back to the savepoint.
        with contextlib.suppress(sqlite3.Error):
            driver.execute("ROLLBACK TO hubbub")
            driver.execute("RELEASE hubbub")


def now_ms() -> int:
    return int(time.time() * 1000)
