"""Direct writes (SQLite): a whole transaction in one call into the connection's worker thread.

Through SQLAlchemy's async engine a write pays its execution machinery (greenlets, events, result
objects) per statement and a worker-thread round trip, each waking the event loop, per statement
and again for COMMIT. A direct write is instead a plain function of the sqlite3 connection, built
from the store's own Core statements (compiled once per statement and set of parameter names), and
a batch of them travels to the worker in one call: BEGIN IMMEDIATE, each write in its own
SAVEPOINT (none for a lone write), COMMIT. The rules are those of every queued write (see
write_queue): a failing write is rolled back alone and only its caller gets its error, translated
to SQLAlchemy's exception classes as the engine would; a failed COMMIT fails every write it
carried; nobody hears back before the COMMIT (fsynced, synchronous=FULL) has returned.
A write of one statement with RETURNING (a job's insert or update) gives its rows back as
the driver's tuples; the store converts them, as it converts the engine's rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import operator
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect as SADialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.compiler import SQLCompiler

from storage import sqlite_driver
from storage.write_queue import Outcome, SyncWrite, TransactionBroken

T = TypeVar("T")

#: One statement of a direct write: a Core DML statement (no RETURNING) and its parameters, a
#: mapping for one row or a list of mappings (all with the same keys) for an executemany.
Step = tuple[sa.Executable, Mapping[str, Any] | Sequence[Mapping[str, Any]]]

SAVEPOINT = "write_op"
# A compiled statement's key: the statement's id, its parameter names, and RETURNING or not.
_CacheKey = tuple[int, tuple[str, ...], bool]
# Compiled statements kept at most; the store passes prebuilt statements, so this never fills
# unless a caller builds a new statement per write (then it only stops caching).
_MAX_COMPILED = 256


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    # Per positional parameter: its name in the caller's mapping, or None for a value fixed in
    # the statement (then in `fixed`, already processed).
    names: tuple[str | None, ...]
    fixed: tuple[Any, ...]
    # (position, bind processor) where the column type converts values (e.g. Double, Boolean).
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]
    # All parameters from the mapping: one C call picks them (the common case, and hot).
    pick: Callable[[Mapping[str, Any]], tuple[Any, ...]] | None = None

    def row(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        if self.pick is not None:
            values = list(self.pick(params))
        else:
            values = [
                fixed if name is None else params[name]
                for name, fixed in zip(self.names, self.fixed, strict=True)
            ]
        for position, process in self.processors:
            if values[position] is not None:
                values[position] = process(values[position])
        return tuple(values)


def compile_statement(
    stmt: sa.Executable, keys: tuple[str, ...], dialect: SADialect, *, returning: bool = False
) -> _Compiled:
    """`stmt` as SQLite SQL with positional parameters taken from mappings with `keys`;
    with `returning`, a statement that must have a RETURNING clause (one row of parameters)."""
    if not isinstance(stmt, sa.ClauseElement):
        raise TypeError("a direct write runs Core statements")
    compiled = stmt.compile(dialect=dialect, column_keys=list(keys))
    if not isinstance(compiled, SQLCompiler):
        raise TypeError("a direct write runs DML statements")
    positions = compiled.positiontup
    if positions is None or compiled.post_compile_params:
        raise ValueError("a direct write needs a plain positional statement (no IN lists)")
    if bool(compiled.effective_returning) != returning:
        raise ValueError(
            "RETURNING needs prepare_returning" if not returning else "no RETURNING clause"
        )
    names: list[str | None] = []
    fixed: list[Any] = []
    processors: list[tuple[int, Callable[[Any], Any]]] = []
    for position, name in enumerate(positions):
        bind = compiled.binds[name]
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if name in keys:
            names.append(name)
            fixed.append(None)
            if process is not None:
                processors.append((position, process))
        elif bind.required:
            raise KeyError(f"no value for the parameter {name!r}")
        else:
            value = bind.effective_value
            names.append(None)
            fixed.append(value if process is None or value is None else process(value))
    pick = None
    if names and None not in names:
        getter = operator.itemgetter(*names)
        # itemgetter of one name gives the bare value, of several a tuple.
        pick = (lambda params: (getter(params),)) if len(names) == 1 else getter
    return _Compiled(str(compiled), tuple(names), tuple(fixed), tuple(processors), pick)


def _translate(exc: BaseException, sql: str, many: bool = False) -> BaseException:
    # The engine's exception classes (IntegrityError, OperationalError, ...) with the sqlite3
    # error as `orig`; parameters stay out of the message (they carry users' text).
    return sa_exc.DBAPIError.instance(
        sql, None, exc, sqlite3.Error, hide_parameters=True, ismulti=many
    )


def _run_steps(steps: tuple[tuple[str, Any, bool], ...], conn: sqlite3.Connection) -> None:
    for sql, params, many in steps:
        try:
            if many:
                conn.executemany(sql, params)
            else:
                conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise _translate(exc, sql, many) from exc


def _run_returning(sql: str, row: tuple[Any, ...], conn: sqlite3.Connection) -> list[Any]:
    try:
        return conn.execute(sql, row).fetchall()
    except sqlite3.Error as exc:
        raise _translate(exc, sql) from exc


def _rollback(conn: sqlite3.Connection) -> None:
    with contextlib.suppress(sqlite3.Error):
        if conn.in_transaction:
            conn.execute("ROLLBACK")


def _savepoints(writes: Sequence[SyncWrite[Any]], conn: sqlite3.Connection) -> list[Outcome]:
    """Run each write in its own savepoint of the open transaction (worker thread).

    Stops after a write whose failure could not be undone alone: its outcome is then a
    TransactionBroken and the caller must roll the whole transaction back.
    """
    outcomes: list[Outcome] = []
    for write in writes:
        conn.execute(f"SAVEPOINT {SAVEPOINT}")
        try:
            value = write(conn)
        except Exception as exc:
            try:
                conn.execute(f"ROLLBACK TO SAVEPOINT {SAVEPOINT}")
                conn.execute(f"RELEASE SAVEPOINT {SAVEPOINT}")
                lost = not conn.in_transaction
            except sqlite3.Error:
                lost = True
            if lost:
                broken = TransactionBroken("the write's transaction was lost")
                broken.__cause__ = exc
                outcomes.append((False, broken))
                return outcomes
            outcomes.append((False, exc))
        else:
            conn.execute(f"RELEASE SAVEPOINT {SAVEPOINT}")
            outcomes.append((True, value))
    return outcomes


def _transaction(writes: Sequence[SyncWrite[Any]], conn: sqlite3.Connection) -> list[Outcome]:
    """BEGIN IMMEDIATE, the writes, COMMIT (worker thread). Outcomes of the writes that ran."""
    if not writes:
        return []
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        return [(False, _translate(exc, "BEGIN IMMEDIATE"))]
    try:
        if len(writes) == 1:
            # Alone, the transaction is the write's own: no savepoint needed to undo it.
            try:
                outcomes: list[Outcome] = [(True, writes[0](conn))]
            except Exception as exc:
                _rollback(conn)
                return [(False, exc)]
        else:
            outcomes = _savepoints(writes, conn)
            last = outcomes[-1][1]
            if isinstance(last, TransactionBroken):
                _rollback(conn)
                return [(False, last) if ok else (ok, value) for ok, value in outcomes]
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            _rollback(conn)
            error = _translate(exc, "COMMIT")
            return [(False, error) if ok else (ok, value) for ok, value in outcomes]
        return outcomes
    except BaseException:
        _rollback(conn)
        raise


async def _in_worker(driver: sqlite_driver.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    """Run `fn` in the driver's thread; if cancelled meanwhile, wait for it to end all the same,
    then re-raise.

    The worker finishes the transaction whatever happens here, and the next one must not begin
    (nor the write lock come free) before it has.
    """
    future = driver.submit(fn)
    try:
        # Awaited bare (no shield: that costs a loop iteration per write); a cancel cancels
        # `future`, which the worker then leaves alone.
        return await future
    except asyncio.CancelledError:
        if future.cancelled():
            # The worker runs calls in order: once this no-op has run, `fn` has finished.
            barrier = driver.submit(_nothing)
            while not barrier.done():
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait([barrier])
        raise


def _nothing(_conn: sqlite3.Connection) -> None:
    pass


class DirectWriter:
    """Runs direct writes on the store's one write connection (see the module docstring)."""

    def __init__(self, conn: AsyncConnection, write_lock: asyncio.Lock) -> None:
        """`conn` is held open for writes only; `write_lock` is the one every write
        transaction on the database holds."""
        self._conn = conn
        self._write_lock = write_lock
        self._dialect = conn.dialect
        self._compiled: dict[_CacheKey, tuple[sa.Executable, _Compiled]] = {}

    async def _driver(self) -> sqlite_driver.Connection:
        """The connection's driver now: SQLAlchemy replaces it after an invalidation (as when a
        write through the engine is cancelled half-way)."""
        sync = self._conn.sync_connection
        if sync is None or sync.invalidated:
            raw = await self._conn.get_raw_connection()  # reconnects
        else:
            raw = sync.connection  # no I/O while valid
        driver = raw.driver_connection
        if not isinstance(driver, sqlite_driver.Connection):
            raise TypeError("the SQLite engine must use storage.sqlite_driver connections")
        return driver

    def prepare(self, steps: Sequence[Step]) -> SyncWrite[None]:
        """A direct write running `steps` in order (the rows are bound here, in the caller)."""
        bound: list[tuple[str, Any, bool]] = []
        for stmt, params in steps:
            if isinstance(params, dict | Mapping):
                compiled = self._compile(stmt, tuple(params))
                bound.append((compiled.sql, compiled.row(params), False))
            elif params:
                compiled = self._compile(stmt, tuple(params[0]))
                bound.append((compiled.sql, [compiled.row(p) for p in params], True))
        return partial(_run_steps, tuple(bound))

    def prepare_returning(
        self, stmt: sa.Executable, params: Mapping[str, Any]
    ) -> SyncWrite[list[Any]]:
        """A direct write of one statement with RETURNING, for one row of `params`; it gives
        the returned rows as plain tuples, in the order of the RETURNING columns, with the
        driver's values (no result processing: the caller converts)."""
        compiled = self._compile(stmt, tuple(params), returning=True)
        return partial(_run_returning, compiled.sql, compiled.row(params))

    def _compile(
        self, stmt: sa.Executable, keys: tuple[str, ...], *, returning: bool = False
    ) -> _Compiled:
        cache_key = (id(stmt), keys, returning)
        cached = self._compiled.get(cache_key)
        if cached is not None and cached[0] is stmt:
            return cached[1]
        compiled = compile_statement(stmt, keys, self._dialect, returning=returning)
        if len(self._compiled) >= _MAX_COMPILED:
            self._compiled.clear()
        # The statement is kept with its SQL, so its id cannot be reused by another meanwhile.
        self._compiled[cache_key] = (stmt, compiled)
        return compiled

    async def transaction(self, writes: Sequence[SyncWrite[Any]]) -> list[Outcome]:
        """Run `writes` in one transaction of their own, in one worker call, under the lock.

        Outcomes in order for the writes that ran; those after a lost transaction did not.
        """
        async with self._write_lock:
            driver = await self._driver()
            return await _in_worker(driver, partial(_transaction, writes))

    async def within(self, writes: Sequence[SyncWrite[Any]]) -> list[Outcome]:
        """Run `writes`, each in a savepoint, in the transaction the caller holds open on the
        same connection, in one worker call; stops after a TransactionBroken outcome."""
        driver = await self._driver()
        return await _in_worker(driver, partial(_savepoints, writes))
