"""`SqlStore`: the `Store` on SQLAlchemy Core (async), for SQLite now and PostgreSQL later."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import secrets
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from functools import partial
from typing import Any, Self, TypeVar

import sqlalchemy as sa
from filelock import FileLock, Timeout
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from storage import text_requests as text_sql
from storage.base import (
    ButtonAction,
    ConversationKey,
    JobNotFound,
    JobRecord,
    JobStatus,
    PendingText,
    StoredMessage,
    StoreError,
    StoreLocked,
    UsageEvent,
    UserPrefs,
)
from storage.context_cache import WINDOW as CONTEXT_WINDOW
from storage.context_cache import ContextCache
from storage.dialects import BEGIN_MODE, Dialect, dialect_for
from storage.migrate import upgrade_to_head
from storage.schema import ACTIVE, button_tokens, conversations, jobs, usage, users
from storage.schema import messages as turns
from storage.sqlite_direct import DirectWriter, Step
from storage.write_queue import Write, WriteQueue

T = TypeVar("T")

# Execution options of the engine used for read-then-write transactions.
WRITE: dict[str, Any] = {BEGIN_MODE: "IMMEDIATE"}
# ... and for reads: each `_read` runs one statement, atomic on its own, so SQLite needs no
# BEGIN/ROLLBACK around it (PostgreSQL ignores the option).
READ: dict[str, Any] = {BEGIN_MODE: "NONE"}

PREF_FIELDS = frozenset({"model", "language", "voice"})
JOB_FIELDS = tuple(f.name for f in dataclasses.fields(JobRecord))
FINISHED = (JobStatus.SUCCESS, JobStatus.FAILURE, JobStatus.UNKNOWN)

# 12 random bytes -> 16 URL-safe characters: fits Telegram's 64-byte callback_data with room for
# a prefix, and 96 bits cannot be guessed.
TOKEN_BYTES = 12
MAX_TOKEN_LEN = 20


def resolve_url(url: str | URL) -> URL:
    """Parse a database URL; a relative SQLite path becomes absolute (immune to later chdir)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            raise ValueError(
                "in-memory SQLite is not supported (one connection would be shared by every "
                "coroutine); use a file, e.g. sqlite+aiosqlite:///<tmp_path>/test.db"
            )
        parsed = parsed.set(database=os.path.abspath(database))
    return parsed


def make_engine(url: str | URL) -> tuple[AsyncEngine, Dialect]:
    """An async engine with the backend's hooks installed, and the dialect object behind it."""
    parsed = resolve_url(url)
    dialect = dialect_for(parsed)
    engine = create_async_engine(parsed, **dialect.engine_options(parsed))
    dialect.configure(engine)
    return engine, dialect


def lock_database_file(path: str) -> FileLock:
    """Create the file's directory and take `<path>.lock`, or raise StoreLocked at once.

    Blocking (file system); call it in a thread from async code.
    """
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # thread_local=False: taken in one worker thread, released from another.
    lock = FileLock(path + ".lock", timeout=0, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        raise StoreLocked(path) from None
    return lock


def _scope(table: sa.Table, key: ConversationKey) -> sa.ColumnElement[bool]:
    return sa.and_(
        table.c.platform == key.platform,
        table.c.chat_id == key.chat_id,
        table.c.thread_id == key.thread_id,
        table.c.user_id == key.user_id,
    )


def context_query(key: ConversationKey, max_messages: int) -> sa.Select[Any]:
    """The newest `max_messages` turns of the scope's active conversation, newest first."""
    active_id = (
        sa.select(conversations.c.id).where(_scope(conversations, key), ACTIVE).scalar_subquery()
    )
    # One statement: the partial unique index finds the conversation, then the
    # (conversation_id, id) index is walked backwards for exactly `max_messages` rows.
    return (
        sa.select(turns.c.role, turns.c.content, turns.c.tokens, turns.c.image_count)
        .where(turns.c.conversation_id == active_id)
        .order_by(turns.c.id.desc())
        .limit(max_messages)
    )


# Hot statements, built once: a statement object memoizes its cache key, so executing the same
# object with new parameters skips rebuilding and re-keying it (both showed up in profiles).
def _scope_params(table: sa.Table) -> sa.ColumnElement[bool]:
    return sa.and_(*(table.c[name] == sa.bindparam(name) for name in SCOPE_COLUMNS))


SCOPE_COLUMNS = ("platform", "chat_id", "thread_id", "user_id")
FIND_ACTIVE = sa.select(conversations.c.id).where(_scope_params(conversations), ACTIVE)
LOAD_CONTEXT = (
    sa.select(turns.c.role, turns.c.content, turns.c.tokens, turns.c.image_count)
    .where(turns.c.conversation_id == FIND_ACTIVE.scalar_subquery())
    .order_by(turns.c.id.desc())
    .limit(sa.bindparam("max_messages", type_=sa.Integer))
)
GET_SUMMARY = sa.select(conversations.c.summary).where(_scope_params(conversations), ACTIVE)
GET_PREFS = sa.select(users.c.model, users.c.language, users.c.voice).where(
    users.c.platform == sa.bindparam("platform"), users.c.user_id == sa.bindparam("user_id")
)
INSERT_TURNS = turns.insert()
INSERT_USAGE = usage.insert()
INSERT_TOKENS = button_tokens.insert()
INSERT_JOB = jobs.insert().returning(*jobs.c)
# The SET clause comes from the parameters' keys ("_job_id" is not a column name).
UPDATE_JOB = jobs.update().where(jobs.c.id == sa.bindparam("_job_id")).returning(*jobs.c)
GET_JOB = sa.select(jobs).where(jobs.c.id == sa.bindparam("_job_id"))

# Users whose prefs are kept in memory at most (least recently used go first).
PREFS_CACHE_SIZE = 50_000
# Active conversation ids kept in memory at most.
CONVERSATION_CACHE_SIZE = 50_000


def _scope_values(key: ConversationKey) -> dict[str, str]:
    return {
        "platform": key.platform,
        "chat_id": key.chat_id,
        "thread_id": key.thread_id,
        "user_id": key.user_id,
    }


def _usage_values(event: UsageEvent, now: float) -> dict[str, Any]:
    return {
        "platform": event.platform,
        "user_id": event.user_id,
        "chat_id": event.chat_id,
        "command": event.command,
        "model": event.model,
        "prompt_tokens": event.prompt_tokens,
        "completion_tokens": event.completion_tokens,
        "units": event.units,
        "created_at": now,
    }


async def _execute_steps(steps: tuple[Step, ...], conn: AsyncConnection) -> None:
    for stmt, params in steps:
        if params:
            await conn.execute(stmt, params)


def _turn_rows(
    conversation_id: int, messages: list[StoredMessage], now: float
) -> list[dict[str, Any]]:
    return [
        {
            "conversation_id": conversation_id,
            "role": m.role,
            "content": m.content,
            "tokens": m.tokens,
            "image_count": m.image_count,
            "created_at": now,
        }
        for m in messages
    ]


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _job_values(fields: Mapping[str, Any]) -> dict[str, Any]:
    """JobRecord field values -> column values (JSON text, plain status string)."""
    values = dict(fields)
    if "status" in values:
        values["status"] = JobStatus(values["status"]).value
    if "buttons" in values:
        values["buttons"] = _dumps(values["buttons"])
    if "result" in values:
        values["result"] = _dumps(values["result"])
    return values


# The columns INSERT_JOB and UPDATE_JOB return, in order (a direct write gives bare tuples).
JOB_COLUMNS = tuple(column.name for column in jobs.c)


def _job_from_row(row: sa.Row[Any]) -> JobRecord:
    return _job_from_mapping(dict(row._mapping))


def _job_from_mapping(data: dict[str, Any]) -> JobRecord:
    data["status"] = JobStatus(data["status"])
    data["buttons"] = json.loads(data["buttons"])
    data["result"] = json.loads(data["result"])
    data["delivered"] = bool(data["delivered"])
    data["chat_private"] = bool(data["chat_private"])
    for name in ("created_at", "updated_at", "next_poll_at"):
        data[name] = float(data[name])
    return JobRecord(**data)


class SqlStore:
    """The store on SQLAlchemy Core. SQLite: one process per file, enforced by `<db>.lock`."""

    def __init__(self, url: str | URL, *, clock: Callable[[], float] = time.time) -> None:
        self._url = resolve_url(url)
        self._clock = clock
        self._engine: AsyncEngine | None = None
        self._writer: AsyncEngine | None = None
        self._reader: AsyncEngine | None = None
        self._dialect: Dialect | None = None
        self._file_lock: FileLock | None = None
        self._queue: WriteQueue | None = None
        # Where writes queue behind one writer (SQLite): the one connection they all use, held
        # open (no pool checkout per write), and the direct writes on it (see sqlite_direct).
        self._write_conn: AsyncConnection | None = None
        self._direct: DirectWriter | None = None
        # Write-through prefs cache, only where this process is the database's sole writer
        # (SQLite, under the file lock): every command reads prefs, few change them. With
        # PostgreSQL another process may change them, so every read goes to the database.
        self._prefs: OrderedDict[tuple[str, str], UserPrefs] | None = None
        self._prefs_version = 0  # bumped by every prefs write, so a racing read is not cached
        # Likewise the active conversation id per scope, so an append need not look it up;
        # filled only after a commit, dropped (and the version bumped) by every reset.
        self._conversations: OrderedDict[ConversationKey, int] | None = None
        self._conversations_version = 0
        # And the newest turns of recent conversations, so a turn's context load is a lookup.
        self._contexts: ContextCache | None = None

    def __repr__(self) -> str:
        return f"SqlStore({self._url.render_as_string(hide_password=True)!r})"

    @property
    def url(self) -> URL:
        """The resolved database URL (render it with `hide_password=True`)."""
        return self._url

    @property
    def engine(self) -> AsyncEngine:
        """The open engine (for maintenance and tests; the store's methods cover normal use)."""
        if self._engine is None:
            raise RuntimeError("the store is not open")
        return self._engine

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def open(self) -> None:
        """Take the file lock (SQLite), connect, and apply pending migrations."""
        if self._engine is not None:
            raise RuntimeError("the store is already open")
        # Creating the engine connects nothing yet; the lock comes first.
        engine, dialect = make_engine(self._url)
        self._engine, self._writer, self._reader, self._dialect = (
            engine,
            engine.execution_options(**WRITE),
            engine.execution_options(**READ),
            dialect,
        )
        try:
            if dialect.single_process:
                path = self._url.database or ""
                self._file_lock = await asyncio.to_thread(lock_database_file, path)
            async with self._transaction() as conn:
                await dialect.migration_lock(conn)
                await conn.run_sync(upgrade_to_head)
            if dialect.group_commit:
                self._write_conn = await self._writer.connect()
                self._direct = await dialect.direct_writer(self._write_conn)
                self._queue = WriteQueue(
                    self._transaction, savepoint=dialect.savepoint, direct=self._direct
                )
            if dialect.owns_data:
                self._prefs = OrderedDict()
                self._conversations = OrderedDict()
                self._contexts = ContextCache()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Close every connection and release the file lock; safe to call twice."""
        queue, self._queue = self._queue, None
        if queue is not None:
            await queue.close()  # the writes callers are waiting for
        write_conn, self._write_conn, self._direct = self._write_conn, None, None
        if write_conn is not None:
            await write_conn.close()
        engine, self._engine, self._writer, self._reader = self._engine, None, None, None
        self._prefs = None
        self._conversations = None
        self._contexts = None
        if engine is not None:
            await engine.dispose()
        lock, self._file_lock = self._file_lock, None
        if lock is not None:
            await asyncio.to_thread(lock.release)

    async def _write(self, write: Write[T]) -> T:
        """Run `write(conn)` in a transaction that may read then write; its result once committed.

        All-or-nothing: an exception rolls back everything `write` did. Where the backend has one
        writer (SQLite) it runs in a savepoint of a transaction shared with the writes queued at
        the same time (`WriteQueue`), still committed (durably) before this returns.
        """
        if self._queue is not None:
            return await self._queue.run(write)
        async with self._transaction() as conn:
            return await write(conn)

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        if self._writer is None or self._dialect is None:
            raise RuntimeError("the store is not open")
        held = self._write_conn
        if held is None:
            async with self._dialect.write_guard(), self._writer.begin() as conn:
                yield conn
            return
        async with self._dialect.write_guard(), held.begin():
            yield held

    async def _write_steps(self, *steps: Step) -> None:
        """Run Core DML statements (no RETURNING) in order as one write (see `_write`); where
        the backend has them (SQLite), as a direct write: one worker call, BEGIN to COMMIT."""
        queue, direct = self._queue, self._direct
        if queue is not None and direct is not None:
            await queue.run_direct(direct.prepare(steps))
        else:
            await self._write(partial(_execute_steps, steps))

    async def _write_job_row(
        self, stmt: sa.Executable, params: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """A job's INSERT_JOB or UPDATE_JOB (they return every job column) as one write (see
        `_write`); the job's row as a mapping, None when no job matched. Direct on SQLite."""
        queue, direct = self._queue, self._direct
        if queue is not None and direct is not None:
            rows = await queue.run_direct(direct.prepare_returning(stmt, params))
            return dict(zip(JOB_COLUMNS, rows[0], strict=True)) if rows else None

        async def write(conn: AsyncConnection) -> dict[str, Any] | None:
            row = (await conn.execute(stmt, params)).first()
            return None if row is None else dict(row._mapping)

        return await self._write(write)

    @contextlib.asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for ONE reading statement (SQLite runs it without a transaction)."""
        if self._reader is None:
            raise RuntimeError("the store is not open")
        async with self._reader.connect() as conn:
            yield conn

    def _insert(self, table: sa.Table) -> Any:
        if self._dialect is None:
            raise RuntimeError("the store is not open")
        return self._dialect.insert(table)

    # users

    async def get_prefs(self, platform: str, user_id: str) -> UserPrefs:
        """The user's preferences; all None for a user never seen."""
        cache = self._prefs
        if cache is not None:
            cached = cache.get((platform, user_id))
            if cached is not None:
                cache.move_to_end((platform, user_id))
                return cached
        version = self._prefs_version
        params = {"platform": platform, "user_id": user_id}
        async with self._read() as conn:
            row = (await conn.execute(GET_PREFS, params)).first()
        prefs = UserPrefs() if row is None else UserPrefs(*row)
        if version == self._prefs_version:
            self._remember_prefs(platform, user_id, prefs)
        return prefs

    def _remember_prefs(self, platform: str, user_id: str, prefs: UserPrefs) -> None:
        cache = self._prefs
        if cache is None:
            return
        cache[(platform, user_id)] = prefs
        cache.move_to_end((platform, user_id))
        while len(cache) > PREFS_CACHE_SIZE:
            cache.popitem(last=False)

    async def set_prefs(self, platform: str, user_id: str, **changes: str | None) -> UserPrefs:
        """Update the given fields (model, language, voice) and return the new prefs."""
        unknown = set(changes) - PREF_FIELDS
        if unknown:
            raise TypeError(f"unknown preference field(s): {', '.join(sorted(unknown))}")
        if not changes:
            return await self.get_prefs(platform, user_id)
        now = self._clock()
        stmt = self._insert(users).values(
            platform=platform, user_id=user_id, updated_at=now, **changes
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[users.c.platform, users.c.user_id],
            set_={**{name: stmt.excluded[name] for name in changes}, "updated_at": now},
        ).returning(users.c.model, users.c.language, users.c.voice)
        self._prefs_version += 1
        if self._prefs is not None:
            self._prefs.pop((platform, user_id), None)  # unknown until the write settles

        async def write(conn: AsyncConnection) -> sa.Row[Any]:
            return (await conn.execute(stmt)).one()

        prefs = UserPrefs(*await self._write(write))
        self._prefs_version += 1
        self._remember_prefs(platform, user_id, prefs)
        return prefs

    # conversations

    async def _conversation_id(self, conn: AsyncConnection, key: ConversationKey) -> int:
        """`_active_conversation`, from memory when this process already knows it."""
        cache = self._conversations
        if cache is not None:
            found = cache.get(key)
            if found is not None:
                cache.move_to_end(key)
                return found
        return await self._active_conversation(conn, key)

    def _remember_conversation(self, key: ConversationKey, conversation_id: int, seen: int) -> None:
        """Cache a committed active id, unless a reset ran since `seen` (the version then)."""
        cache = self._conversations
        if cache is None or seen != self._conversations_version:
            return
        cache[key] = conversation_id
        cache.move_to_end(key)
        while len(cache) > CONVERSATION_CACHE_SIZE:
            cache.popitem(last=False)

    async def _active_conversation(self, conn: AsyncConnection, key: ConversationKey) -> int:
        """Id of the scope's active conversation, created when there is none (write txn only)."""
        scope = _scope_values(key)
        found = (await conn.execute(FIND_ACTIVE, scope)).scalar()
        if found is not None:
            return int(found)
        # ON CONFLICT: another process (PostgreSQL) may create it between our select and insert.
        create = (
            self._insert(conversations)
            .values(
                platform=key.platform,
                chat_id=key.chat_id,
                thread_id=key.thread_id,
                user_id=key.user_id,
                created_at=self._clock(),
                active=True,
                summary="",
            )
            .on_conflict_do_nothing(
                index_elements=[
                    conversations.c.platform,
                    conversations.c.chat_id,
                    conversations.c.thread_id,
                    conversations.c.user_id,
                ],
                index_where=ACTIVE,
            )
        )
        await conn.execute(create)
        return int((await conn.execute(FIND_ACTIVE, scope)).scalar_one())

    async def load_context(
        self, key: ConversationKey, max_messages: int = 200
    ) -> list[StoredMessage]:
        """The newest turns of the current conversation, oldest first, at most `max_messages`."""
        if max_messages <= 0:
            return []
        cache = self._contexts
        if cache is None:
            return await self._load_context(key, max_messages)
        cached = cache.get(key, max_messages)
        if cached is not None:
            return cached
        ticket = cache.ticket(key)
        depth = max(max_messages, CONTEXT_WINDOW)
        turns = await self._load_context(key, depth)
        cache.fill(ticket, turns, whole=len(turns) < depth)
        return turns[-max_messages:]

    async def _load_context(self, key: ConversationKey, limit: int) -> list[StoredMessage]:
        params = {**_scope_values(key), "max_messages": limit}
        async with self._read() as conn:
            rows = (await conn.execute(LOAD_CONTEXT, params)).all()
        return [StoredMessage(*row) for row in reversed(rows)]

    def _context_write(
        self, key: ConversationKey
    ) -> contextlib.AbstractContextManager[list[StoredMessage]]:
        """`ContextCache.writing` where there is a cache; else a list nobody reads."""
        if self._contexts is None:
            return contextlib.nullcontext([])
        return self._contexts.writing(key)

    async def append_messages(
        self, key: ConversationKey, messages: list[StoredMessage], usage: UsageEvent | None = None
    ) -> None:
        """Add turns atomically (a user turn and its answer land together or not at all),
        with the usage that paid for them, when given, in the same transaction."""
        if not messages:
            if usage is not None:
                await self.record_usage(usage)
            return
        now = self._clock()
        # A cached id stays right for this write although it runs later: a reset queued before
        # it dropped the id when it was queued, and only writes queued after that reset
        # (so run after it) can have cached one since (`seen` is taken here, when queued).
        seen = self._conversations_version
        known = None if self._conversations is None else self._conversations.get(key)
        if known is not None and self._direct is not None:
            steps: list[Step] = [(INSERT_TURNS, _turn_rows(known, messages, now))]
            if usage is not None:
                steps.insert(0, (INSERT_USAGE, _usage_values(usage, now)))
            with self._context_write(key) as committed:
                await self._write_steps(*steps)
                committed.extend(messages)
            self._remember_conversation(key, known, seen)
            return

        async def write(conn: AsyncConnection) -> int:
            conversation_id = await self._conversation_id(conn, key)
            if usage is not None:
                await conn.execute(INSERT_USAGE, _usage_values(usage, now))
            await conn.execute(INSERT_TURNS, _turn_rows(conversation_id, messages, now))
            return conversation_id

        with self._context_write(key) as committed:
            conversation_id = await self._write(write)
            committed.extend(messages)
        self._remember_conversation(key, conversation_id, seen)

    async def reset_conversation(self, key: ConversationKey) -> None:
        """Start a new conversation; the old one is kept but no longer loaded."""

        async def write(conn: AsyncConnection) -> None:
            self._forget_conversation(key)
            await conn.execute(
                conversations.update()
                .where(_scope(conversations, key), ACTIVE)
                .values(active=False)
            )
            await self._active_conversation(conn, key)

        # Forgotten when queued too: appends queued from now on must not use the old id.
        self._forget_conversation(key)
        with self._context_write(key):
            await self._write(write)
            if self._contexts is not None:
                self._contexts.forget(key)
                self._contexts.summary_written(key, "")  # the new conversation has none yet

    def _forget_conversation(self, key: ConversationKey) -> None:
        if self._conversations is not None:
            self._conversations.pop(key, None)
        self._conversations_version += 1

    async def set_summary(self, key: ConversationKey, summary: str) -> None:
        """Remember a summary of turns that were trimmed away."""

        async def write(conn: AsyncConnection) -> None:
            conversation_id = await self._conversation_id(conn, key)
            await conn.execute(
                conversations.update()
                .where(conversations.c.id == conversation_id)
                .values(summary=summary)
            )

        with self._context_write(key):
            await self._write(write)
            if self._contexts is not None:
                self._contexts.summary_written(key, summary)

    async def get_summary(self, key: ConversationKey) -> str:
        """The active conversation's summary; "" when there is none."""
        cache = self._contexts
        if cache is None:
            return await self._read_summary(key)
        cached = cache.summary(key)
        if cached is not None:
            return cached
        ticket = cache.ticket(key)
        summary = await self._read_summary(key)
        cache.fill_summary(ticket, summary)
        return summary

    async def _read_summary(self, key: ConversationKey) -> str:
        async with self._read() as conn:
            summary = (await conn.execute(GET_SUMMARY, _scope_values(key))).scalar()
        return summary or ""

    # jobs

    async def create_job(self, job: JobRecord) -> JobRecord:
        """Store a new job (before its submit is sent) and return it with its id."""
        now = self._clock()
        fields = {name: getattr(job, name) for name in JOB_FIELDS if name != "id"}
        fields["created_at"] = job.created_at or now
        fields["updated_at"] = job.updated_at or fields["created_at"]
        created = await self._write_job_row(INSERT_JOB, _job_values(fields))
        if created is None:  # an INSERT always returns its row
            raise StoreError("the new job was not returned")
        return _job_from_mapping(created)

    async def update_job(self, job_id: int, **changes: Any) -> JobRecord:
        """Change fields of a job (by JobRecord field name) and return the new record."""
        unknown = set(changes) - (set(JOB_FIELDS) - {"id"})
        if unknown:
            raise TypeError(f"cannot update job field(s): {', '.join(sorted(unknown))}")
        changes.setdefault("updated_at", self._clock())
        row = await self._write_job_row(UPDATE_JOB, {**_job_values(changes), "_job_id": job_id})
        if row is None:
            raise JobNotFound(job_id)
        return _job_from_mapping(row)

    async def get_job(self, job_id: int) -> JobRecord | None:
        """The job with our id, or None."""
        return await self._one_job(GET_JOB, {"_job_id": job_id})

    async def get_job_by_upstream(self, upstream_id: str) -> JobRecord | None:
        """The newest job the upstream knows by this task id, or None."""
        stmt = (
            sa.select(jobs)
            .where(jobs.c.upstream_id == upstream_id)
            .order_by(jobs.c.id.desc())
            .limit(1)
        )
        return await self._one_job(stmt)

    async def _one_job(
        self, stmt: sa.Select[Any], params: dict[str, Any] | None = None
    ) -> JobRecord | None:
        async with self._read() as conn:
            row = (await conn.execute(stmt, params)).first()
        return None if row is None else _job_from_row(row)

    async def _jobs(self, stmt: sa.Select[Any]) -> list[JobRecord]:
        async with self._read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_job_from_row(row) for row in rows]

    async def list_jobs(self, statuses: list[JobStatus], limit: int = 1000) -> list[JobRecord]:
        """Jobs in the given statuses, oldest first."""
        if not statuses:
            return []
        stmt = (
            sa.select(jobs)
            .where(jobs.c.status.in_([JobStatus(s).value for s in statuses]))
            .order_by(jobs.c.id)
            .limit(limit)
        )
        return await self._jobs(stmt)

    async def list_undelivered(self) -> list[JobRecord]:
        """Finished (success/failure/unknown) jobs whose result has not reached the chat yet."""
        stmt = (
            sa.select(jobs)
            .where(jobs.c.status.in_([s.value for s in FINISHED]), jobs.c.delivered == sa.false())
            .order_by(jobs.c.id)
        )
        return await self._jobs(stmt)

    async def claim_jobs_for_poll(
        self, now: float, limit: int, *, lease_s: float | None = None
    ) -> list[JobRecord]:
        """Pending jobs due for a poll (`next_poll_at <= now`), most overdue first."""
        if self._dialect is None:
            raise RuntimeError("the store is not open")
        due = (
            sa.select(jobs)
            .where(jobs.c.status == JobStatus.PENDING.value, jobs.c.next_poll_at <= now)
            .order_by(jobs.c.next_poll_at, jobs.c.id)
            .limit(limit)
        )
        if lease_s is None:
            return await self._jobs(due)
        locked = self._dialect.lock_for_claim(due)

        async def write(conn: AsyncConnection) -> list[JobRecord]:
            claimed = [_job_from_row(row) for row in (await conn.execute(locked)).all()]
            if claimed:
                await conn.execute(
                    jobs.update()
                    .where(jobs.c.id.in_([job.id for job in claimed]))
                    .values(next_poll_at=now + lease_s)
                )
            return claimed

        claimed = await self._write(write)
        for job in claimed:
            job.next_poll_at = now + lease_s
        return claimed

    # buttons

    async def issue_tokens(self, actions: list[ButtonAction]) -> list[str]:
        """Store actions and return a short opaque token (<= 20 bytes) for each, in order."""
        if not actions:
            return []
        now = self._clock()
        for _attempt in range(3):
            tokens = [secrets.token_urlsafe(TOKEN_BYTES) for _ in actions]
            rows = [
                {
                    "token": token,
                    "kind": a.kind,
                    "job_id": a.job_id,
                    "owner_id": a.owner_id,
                    "platform": a.platform,
                    "payload": a.payload,
                    "expires_at": a.expires_at,
                    "created_at": now,
                }
                for token, a in zip(tokens, actions, strict=True)
            ]
            try:
                await self._write_steps((INSERT_TOKENS, rows))
            except IntegrityError:
                # A 96-bit collision is practically impossible, but a retry costs nothing.
                if len(set(tokens)) == len(tokens) and not await self._any_token_exists(tokens):
                    raise  # something else (e.g. a job_id that does not exist)
                continue
            return tokens
        raise RuntimeError("could not issue unique button tokens")

    async def _any_token_exists(self, tokens: list[str]) -> bool:
        stmt = sa.select(sa.func.count()).where(button_tokens.c.token.in_(tokens))
        async with self._read() as conn:
            return bool((await conn.execute(stmt)).scalar_one())

    async def resolve_token(self, token: str) -> ButtonAction | None:
        """The action behind a token; None when unknown or expired."""
        if not token or len(token) > MAX_TOKEN_LEN:
            return None
        stmt = sa.select(
            button_tokens.c.kind,
            button_tokens.c.job_id,
            button_tokens.c.owner_id,
            button_tokens.c.platform,
            button_tokens.c.payload,
            button_tokens.c.expires_at,
        ).where(button_tokens.c.token == token, button_tokens.c.expires_at > self._clock())
        async with self._read() as conn:
            row = (await conn.execute(stmt)).first()
        if row is None:
            return None
        kind, job_id, owner_id, platform, payload, expires_at = row
        return ButtonAction(kind, job_id, owner_id, platform, payload, float(expires_at))

    async def purge_expired_tokens(self, now: float) -> int:
        """Delete tokens whose `expires_at` is at or before `now`; returns how many."""
        stmt = button_tokens.delete().where(button_tokens.c.expires_at <= now)

        async def write(conn: AsyncConnection) -> int:
            return int((await conn.execute(stmt)).rowcount)

        return await self._write(write)

    # text requests

    async def open_text_request(self, request: PendingText) -> None:
        """Store a pending text request under its `token` (chosen by the caller, <= 20 bytes)."""
        if not request.token or len(request.token) > MAX_TOKEN_LEN:
            raise ValueError("a text request needs a token of 1 to 20 characters")
        values = text_sql.row_values(request, request.token, self._clock())
        await self._write_steps((text_sql.INSERT, values))

    async def bind_text_request(self, token: str, chat_id: str, message_id: str) -> None:
        """Remember the message that asked (answers may come as replies to it)."""
        stmt = text_sql.bind(token, chat_id, message_id)

        async def write(conn: AsyncConnection) -> None:
            await conn.execute(stmt)

        await self._write(write)

    async def find_text_request(
        self,
        token: str | None = None,
        *,
        platform: str = "",
        chat_id: str = "",
        message_id: str = "",
    ) -> PendingText | None:
        """The request by its token, or by the message that asked; expired ones included."""
        if token is not None:
            if not token or len(token) > MAX_TOKEN_LEN:
                return None
            stmt = text_sql.by_token(token)
        else:
            stmt = text_sql.by_asked(platform, chat_id, message_id)
        async with self._read() as conn:
            row = (await conn.execute(stmt)).first()
        return None if row is None else text_sql.from_row(row)

    async def close_text_request(self, token: str) -> bool:
        """Delete a request; True when this call removed it (so it is answered only once)."""
        stmt = text_sql.delete(token)

        async def write(conn: AsyncConnection) -> int:
            return int((await conn.execute(stmt)).rowcount)

        return await self._write(write) == 1

    async def purge_expired_text_requests(self, now: float) -> int:
        """Delete requests whose `expires_at` is at or before `now`; returns how many."""
        stmt = text_sql.delete_expired(now)

        async def write(conn: AsyncConnection) -> int:
            return int((await conn.execute(stmt)).rowcount)

        return await self._write(write)

    # usage

    async def record_usage(self, event: UsageEvent) -> None:
        """Remember one billable call, stamped now."""
        await self._write_steps((INSERT_USAGE, _usage_values(event, self._clock())))

    async def usage_summary(self, platform: str, user_id: str, since: float) -> dict[str, Any]:
        """Totals of one user's usage recorded at or after `since` (see `Store.usage_summary`)."""
        stmt = (
            sa.select(
                usage.c.command,
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(usage.c.prompt_tokens), 0),
                sa.func.coalesce(sa.func.sum(usage.c.completion_tokens), 0),
                sa.func.coalesce(sa.func.sum(usage.c.units), 0.0),
            )
            .where(
                usage.c.platform == platform,
                usage.c.user_id == user_id,
                usage.c.created_at >= since,
            )
            .group_by(usage.c.command)
            .order_by(usage.c.command)
        )
        async with self._read() as conn:
            rows = (await conn.execute(stmt)).all()
        by_command = {
            command: {
                "calls": int(calls),
                "prompt_tokens": int(prompt),
                "completion_tokens": int(completion),
                "units": float(units),
            }
            for command, calls, prompt, completion, units in rows
        }
        totals: dict[str, Any] = {
            key: sum(entry[key] for entry in by_command.values())
            for key in ("calls", "prompt_tokens", "completion_tokens")
        }
        totals["units"] = float(sum(entry["units"] for entry in by_command.values()))
        totals["by_command"] = by_command
        return totals
