"""One connection object for both databases: the dialect, a pool, transactions, named locks.

Every query module (records, feed, offices, cases, ...) writes its SQL once with ``?``
placeholders and runs it on a :class:`Connection`; only this module knows how SQLite and
PostgreSQL are opened, how their transactions start and how their JSON fields are spelled.
A :class:`Database` holds nothing but a pool of idle connections, so any number of server
processes can share one PostgreSQL database behind a load balancer.
"""
from __future__ import annotations

import fcntl
import os
import queue
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from forms.private_files import create_private_file, prepare_private_database
from sync.refusals import Refusal

from .locks import advisory_key

__all__ = ["Connection", "Database", "IN_CHUNK", "chunks"]

#: Values per ``IN (...)`` list: well under both databases' parameter limits.
IN_CHUNK = 500
_SQLITE_BUSY_SECONDS = 60.0
_SQLITE_CACHE_KIB = 64 * 1024
#: An acknowledged batch survives power loss: every durable commit waits for the disk.
_SQLITE_SYNCHRONOUS = "FULL"


class Connection:
    """One connection with ``?`` placeholders on both databases and explicit transactions."""

    def __init__(self, raw: Any, dialect: str) -> None:
        self.raw = raw
        self.dialect = dialect

    def _sql(self, sql: str) -> str:
        return sql if self.dialect == "sqlite" else sql.replace("?", "%s")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.raw.execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        """Run ``sql`` for every row; returns the number of rows changed in total."""
        rows = list(rows)
        if not rows:
            return 0
        if self.dialect == "sqlite":
            return self.raw.executemany(sql, rows).rowcount
        with self.raw.cursor() as cursor:
            cursor.executemany(self._sql(sql), rows)
            return cursor.rowcount

    def script(self, sql: str) -> None:
        """Run one statement as written: no placeholders, so PostgreSQL's ``$$`` and ``%``
        pass untouched (DDL from the schema source)."""
        self.raw.execute(sql)

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple | None:
        return self.execute(sql, params).fetchone()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return self.execute(sql, params).fetchall()

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[Connection]:
        """A write transaction.  ``durable=False`` is for bookkeeping that may be lost in a
        power cut (rate-limit counters): its commit does not wait for the disk, which is most
        of a small write's cost.  Nothing is weakened for the next durable commit: SQLite's
        WAL syncs every earlier frame with it, PostgreSQL's WAL is flushed in order."""
        if self.dialect == "sqlite":
            if not durable:
                self.raw.execute("PRAGMA synchronous = NORMAL")
            self.raw.execute("BEGIN IMMEDIATE")
            try:
                yield self
                self.raw.execute("COMMIT")
            except BaseException:
                if self.raw.in_transaction:
                    self.raw.execute("ROLLBACK")
                raise
            finally:
                if not durable:
                    self.raw.execute(f"PRAGMA synchronous = {_SQLITE_SYNCHRONOUS}")
        else:
            with self.raw.transaction():
                if not durable:
                    self.raw.execute("SET LOCAL synchronous_commit = off")
                yield self

    def lock(self, name: str) -> None:
        """Hold lock ``name`` (:data:`central.db.locks.LOCKS`) until this transaction ends.

        PostgreSQL: a transaction-scoped advisory lock.  SQLite: nothing to do, the write
        transaction already excludes every other writer."""
        key = advisory_key(name)
        if self.dialect == "postgresql":
            self.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema()), CAST(? AS INTEGER))", (key,))

    def json_text(self, column: str, key: str) -> str:
        """SQL for the text of ``column``'s JSON field ``key`` (the indexes in the schema are
        on exactly this expression, so queries must spell it this way)."""
        return json_text(self.dialect, column, key)

    def close_quietly(self) -> None:
        try:
            self.raw.close()
        except Exception:  # noqa: BLE001 - closing a broken connection must never mask the real error
            pass


def json_text(dialect: str, column: str, key: str) -> str:
    """:meth:`Connection.json_text` for a dialect (schema and query modules share it)."""
    if dialect == "sqlite":
        return f"json_extract({column}, '$.{key}')"
    return f"(({column})::jsonb ->> '{key}')"


def dialect_of(url: str) -> str:
    return "postgresql" if url.startswith(("postgresql://", "postgres://")) else "sqlite"


class _SqliteWriters:
    """The queue of one SQLite file's writers: the threads of this process, and every process
    that opens the file (the portal's pre-forked workers, a CLI beside the server).

    SQLite has one writer at a time; a writer that finds it busy waits in SQLite's busy
    handler, which sleeps in steps of up to 100 ms and leaves the lock idle meanwhile: under
    load most of a write's time.  Here writers queue on a thread lock and then an advisory
    ``flock`` on ``<database>-writer``, which wakes the next one the moment the lock is free.
    (A speed measure only: correctness still rests on SQLite's own lock.)
    """

    def __init__(self, database: Path) -> None:
        self._threads = threading.Lock()
        self._path = database.with_name(database.name + "-writer")
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int:
        # A forked child opens its own: a lock is held by an open file, not by a process.
        if self._fd is None or self._pid != os.getpid():
            create_private_file(self._path)
            self._fd, self._pid = os.open(self._path, os.O_RDWR), os.getpid()
        return self._fd

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self._threads:
            fd = self._file()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._threads:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None


class Database:
    """The central database behind ``url`` (a file path, ``sqlite:///path`` or ``postgresql://``)."""

    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        self.url = url
        self.dialect = dialect_of(url)
        self._idle: queue.LifoQueue[Connection] = queue.LifoQueue(maxsize=pool_size)
        self._writers = _SqliteWriters(self._path()) if self.dialect == "sqlite" else None

    def __repr__(self) -> str:
        return f"<Database {self.dialect}>"

    def _path(self) -> Path:
        return Path(self.url.removeprefix("sqlite:///"))

    def _open(self) -> Connection:
        if self.dialect == "sqlite":
            path = self._path()
            prepare_private_database(path)  # 0600, and so its WAL and SHM
            raw = sqlite3.connect(path, timeout=_SQLITE_BUSY_SECONDS, isolation_level=None,
                                  check_same_thread=False)
            raw.execute("PRAGMA journal_mode = WAL")
            raw.execute(f"PRAGMA synchronous = {_SQLITE_SYNCHRONOUS}")
            # Record UUIDs are random, so their index is written all over; a bigger page cache
            # than SQLite's 2 MB default keeps ingest fast once the store holds millions.
            raw.execute(f"PRAGMA cache_size = -{_SQLITE_CACHE_KIB}")
            return Connection(raw, "sqlite")
        return Connection(psycopg.connect(self.url, autocommit=True), "postgresql")

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A pooled connection.  One that saw a database error is closed, not reused; a
        :class:`Refusal` is an answer, not a fault, so its connection goes back to the pool
        (its transaction has already been rolled back)."""
        try:
            conn = self._idle.get_nowait()
        except queue.Empty:
            conn = self._open()
        try:
            yield conn
        except Refusal:
            self._release(conn)
            raise
        except BaseException:
            conn.close_quietly()
            raise
        self._release(conn)

    @contextmanager
    def writing(self) -> Iterator[None]:
        """This process's turn to write (SQLite); nothing to wait for on PostgreSQL."""
        if self._writers is None:
            yield
            return
        with self._writers.turn():
            yield

    @contextmanager
    def write(self, *, durable: bool = True) -> Iterator[Connection]:
        """A connection inside a write transaction, committed when the block ends
        (``durable``: see :meth:`Connection.transaction`)."""
        with self.writing(), self.connect() as conn, conn.transaction(durable=durable):
            yield conn

    def ping(self) -> None:
        """One round trip: raises unless the database answers (health checks)."""
        with self.connect() as conn:
            conn.one("SELECT 1")

    def _release(self, conn: Connection) -> None:
        try:
            self._idle.put_nowait(conn)
        except queue.Full:
            conn.close_quietly()

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close_quietly()
            except queue.Empty:
                break
        if self._writers is not None:
            self._writers.close()


def chunks(items: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    """``items`` in slices short enough for one ``IN (...)`` list."""
    for start in range(0, len(items), size):
        yield items[start:start + size]
