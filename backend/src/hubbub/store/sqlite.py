"""SQLite: the embedded default. WAL mode, so several worker processes can share the file."""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import StaticPool

from hubbub.model import StoreUnavailableError
from hubbub.store import schema
from hubbub.store.database import DatabaseStore, P, Work
from hubbub.store.dialect import Dialect, SQLiteDialect
from hubbub.store.search.fts5 import Fts5Index
from hubbub.store.work.sql import driver_of

T = TypeVar("T")
_WRITE = "hubbub_write"  # Connection.info flag: the next transaction begins IMMEDIATE


# Units of work one hop to the thread takes at most: a burst queues up in hops of this many.
MOST_PER_HOP = 64


class _Job:
    __slots__ = ("error", "future", "result", "work", "write")

    def __init__(self, write: bool, work: Callable[[Connection], Any], future: asyncio.Future[Any]) -> None:
        self.write = write
        self.work = work
        self.future = future
        self.result: Any = None
        self.error: BaseException | None = None


class SQLiteRunner:
    """All SQLite work happens on one thread of its own over one connection, in the order it
    was asked for. Units of work asked for while the thread is busy go to it together, in one
    hop: each hop costs the event loop a wake-up and the two threads a hand-over of the GIL
    (up to 5 ms when the loop is busy: sys.getswitchinterval), and a reconnect wave asks for
    tens of thousands of small reads. Each unit is still its own transaction (or, for a
    read, its own statements in autocommit). A write begins with BEGIN IMMEDIATE, taking the
    database's write lock up front, so sequence numbers commit in order across processes.
    Statements run on the driver itself (work/sql.py)."""

    dialect: Dialect = SQLiteDialect()

    def __init__(self, path: str, synchronous: str = "full") -> None:
        self._path = path
        self._synchronous = "FULL" if synchronous == "full" else "NORMAL"
        self._conn: Connection | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hubbub-sqlite")
        self._waiting: list[_Job] = []
        self._hopper: asyncio.Task[None] | None = None

    async def _hop(self, fn: Any, *args: Any) -> Any:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread, partial(fn, *args))
        except (sa_exc.DBAPIError, sqlite3.Error) as exc:
            raise _unavailable(exc) from exc

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            raise StoreUnavailableError("store is not started")
        return self._conn

    def _open(self) -> None:
        if self._path == ":memory:":
            self._connect()
            return
        Path(self._path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with _opening(self._path):
            if not os.path.exists(self._path):
                # Only the server's user may read the history; SQLite gives the -wal and
                # -shm files the database file's permissions. Created only when missing:
                # closing any descriptor of the file drops the locks this process's SQLite
                # connections hold on it (POSIX record locks belong to the process).
                os.close(os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
            os.chmod(self._path, 0o600)
            self._connect()

    def _connect(self) -> None:
        engine = create_engine(
            f"sqlite+pysqlite:///{self._path}",
            poolclass=StaticPool,  # one connection, on this runner's thread
            connect_args={"timeout": 30, "check_same_thread": False},
        )

        @event.listens_for(engine, "connect")
        def configure(dbapi_conn: sqlite3.Connection, _record: object) -> None:
            dbapi_conn.isolation_level = None  # the driver begins nothing: "begin" below does
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on the disk before the ack (docs/reliability.md); NORMAL: in WAL.
            dbapi_conn.execute(f"PRAGMA synchronous={self._synchronous}")
            dbapi_conn.execute("PRAGMA busy_timeout=30000")

        @event.listens_for(engine, "begin")
        def begin(conn: Connection) -> None:
            if not driver_of(conn).in_transaction:  # else it is _call's, already begun
                conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get(_WRITE) else "BEGIN")

        conn = engine.connect()
        conn.info[_WRITE] = True
        try:
            with conn.begin():
                schema.upgrade(conn, self.dialect)
        except BaseException:
            conn.close()
            engine.dispose()
            raise
        conn.info[_WRITE] = False
        self._conn = conn

    def _call(self, write: bool, work: Callable[[Connection], T]) -> T:
        conn = self.conn
        if not write:
            # A read is a statement or two that each see a committed state (the driver's
            # autocommit): nothing to begin or end, as fast as SQLite answers.
            try:
                return work(conn)
            finally:
                if conn.in_transaction():  # begun by a statement run through SQLAlchemy
                    conn.rollback()
        # BEGIN and COMMIT straight on the driver too: through SQLAlchemy's Connection they
        # cost more than a one-message batch's statements (most batches, at rest).
        driver = driver_of(conn)
        driver.execute("BEGIN IMMEDIATE")
        try:
            result = work(conn)
        except BaseException:
            if conn.in_transaction():
                conn.rollback()
            if driver.in_transaction:
                driver.execute("ROLLBACK")
            raise
        if conn.in_transaction():  # a statement ran through SQLAlchemy: its commit is ours
            conn.commit()
        else:
            driver.execute("COMMIT")
        return result

    async def start(self) -> None:
        await self._hop(self._open)

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await self._hop(_close, conn)
        self._thread.shutdown(wait=True)

    async def ping(self) -> None:
        await self.read(schema.ping)

    async def read(self, work: Work[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        result: T = await self._queue(False, lambda conn: work(conn, *args, **kwargs))
        return result

    async def write(self, work: Work[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        result: T = await self._queue(True, lambda conn: work(conn, *args, **kwargs))
        return result

    def _queue(self, write: bool, work: Callable[[Connection], Any]) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        job = _Job(write, work, loop.create_future())
        self._waiting.append(job)
        if self._hopper is None:
            self._hopper = loop.create_task(self._hops(), name="hubbub-sqlite-hops")
        return job.future

    async def _hops(self) -> None:
        """Take what waits to the thread, a hop at a time, until nothing waits."""
        loop = asyncio.get_running_loop()
        try:
            while self._waiting:
                jobs, self._waiting = self._waiting[:MOST_PER_HOP], self._waiting[MOST_PER_HOP:]
                try:
                    await loop.run_in_executor(self._thread, self._run_jobs, jobs)
                except Exception as exc:  # the thread is gone (the store was closed)
                    for job in jobs:
                        job.error = job.error or StoreUnavailableError(str(exc) or type(exc).__name__)
                for job in jobs:
                    if job.future.done():  # its caller was cancelled
                        continue
                    if job.error is None:
                        job.future.set_result(job.result)
                    else:
                        job.future.set_exception(_unavailable(job.error))
        finally:
            self._hopper = None

    def _run_jobs(self, jobs: list[_Job]) -> None:
        """In order; writes that come one after another share a transaction (group commit)."""
        start = 0
        while start < len(jobs):
            end = start + 1
            while jobs[start].write and end < len(jobs) and jobs[end].write:
                end += 1
            if end - start > 1:
                self._write_together(jobs[start:end])
            else:
                job = jobs[start]
                try:
                    job.result = self._call(job.write, job.work)
                except Exception as exc:
                    job.error = exc
            start = end

    def _write_together(self, jobs: list[_Job]) -> None:
        """Several writes in one transaction, each in a savepoint of its own: one that raises
        is undone alone, as if it had run by itself; the others commit together, with one
        sync to the disk. Nobody hears of a success before the commit (the hop ends after it)."""
        conn = self.conn
        driver = driver_of(conn)
        driver.execute("BEGIN IMMEDIATE")
        try:
            for job in jobs:
                driver.execute("SAVEPOINT hubbub_unit")
                try:
                    job.result = job.work(conn)
                except Exception as exc:
                    job.error = exc
                    driver.execute("ROLLBACK TO hubbub_unit")
                driver.execute("RELEASE hubbub_unit")
            if conn.in_transaction():  # a statement ran through SQLAlchemy: its commit is ours
                conn.commit()
            else:
                driver.execute("COMMIT")
        except Exception as exc:
            if conn.in_transaction():
                conn.rollback()
            if driver.in_transaction:
                driver.execute("ROLLBACK")
            for job in jobs:
                job.result, job.error = None, job.error or exc


def _unavailable(exc: BaseException) -> BaseException:
    """The database's own errors as StoreUnavailableError; the domain's as they are."""
    if isinstance(exc, sa_exc.DBAPIError | sqlite3.Error):
        found = StoreUnavailableError(str(getattr(exc, "orig", None) or exc))
        found.__cause__ = exc
        return found
    return exc


@contextmanager
def _opening(path: str) -> Iterator[None]:
    """Workers starting at once open and migrate the database one at a time. Switching to
    WAL and the first write both take SQLite's exclusive lock, and two connections that each
    hold a shared lock and want it are a deadlock SQLite answers with "database is locked"
    at once, without waiting out the busy timeout (CI: 4 stores opening one legacy file).
    The lock is the kernel's, on a file beside the database, so it ends with the process."""
    fd = os.open(f"{path}-open.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _close(conn: Connection) -> None:
    conn.close()
    conn.engine.dispose()


class SQLiteStore(DatabaseStore):
    def __init__(self, path: str, synchronous: str = "full") -> None:
        super().__init__(SQLiteRunner(path, synchronous), Fts5Index())


async def schema_version(path: str) -> schema.SchemaVersion:
    """The database's schema version, read without changing anything."""

    def read() -> schema.SchemaVersion:
        engine = create_engine(f"sqlite+pysqlite:///{path}")
        try:
            with engine.connect() as conn:
                return schema.version(conn)
        finally:
            engine.dispose()

    return await asyncio.to_thread(read)
