"""`SqlStore`: the `Store` on SQLAlchemy Core (async), for SQLite and PostgreSQL.

It opens the database (lock file for SQLite, migrations) and hands each call to the module of
the table it concerns: prefs, conversations (with the turns), jobs, tokens, usage. Every write of
every table is a function of a connection run by `Database.write` (storage.database), the
store's one write path.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Self

import sqlalchemy as sa
from filelock import FileLock
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.base import (
    ButtonAction,
    ConversationKey,
    JobFinish,
    JobRecord,
    JobResult,
    JobStatus,
    PendingText,
    StoredMessage,
    UsageEvent,
    UserPrefs,
)
from storage.conversations import ConversationTable
from storage.database import Database
from storage.engine import is_sqlite, lock_database_file, resolve_url, take_migration_lock
from storage.jobs import JobTable
from storage.migrate import upgrade_to_head
from storage.prefs import PrefsTable
from storage.text_requests import TextRequestTable
from storage.tokens import TokenTable
from storage.usage import UsageTable


def _migrate(conn: sa.Connection) -> None:
    take_migration_lock(conn)
    upgrade_to_head(conn)


class _Tables:
    """The open database's tables, each behind the module that owns its statements."""

    def __init__(self, db: Database) -> None:
        self.prefs = PrefsTable(db)
        self.conversations = ConversationTable(db)
        self.jobs = JobTable(db)
        self.tokens = TokenTable(db)
        self.text_requests = TextRequestTable(db)
        self.usage = UsageTable(db)


class SqlStore:
    """The store on SQLAlchemy Core. SQLite: one process per file, enforced by `<db>.lock`."""

    def __init__(
        self,
        url: str | URL,
        *,
        clock: Callable[[], float] = time.time,
        on_write: Callable[[float], None] | None = None,
    ) -> None:
        self._url = resolve_url(url)
        self._clock = clock
        self._on_write = on_write
        self._db: Database | None = None
        self._tables: _Tables | None = None
        self._file_lock: FileLock | None = None

    def __repr__(self) -> str:
        return f"SqlStore({self._url.render_as_string(hide_password=True)!r})"

    @property
    def url(self) -> URL:
        """The resolved database URL (render it with `hide_password=True`)."""
        return self._url

    @property
    def engine(self) -> AsyncEngine:
        """The open engine, for modules keeping tables of their own (their migrations are ours).

        On SQLite, a write through it runs beside the store's writer: SQLite's busy timeout
        makes it wait for the writer's commit.
        """
        if self._db is None:
            raise RuntimeError("the store is not open")
        return self._db.engine

    @property
    def shared(self) -> bool:
        """PostgreSQL may be shared by several processes; a SQLite file has one (its lock)."""
        return not is_sqlite(self._url)

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def open(self) -> None:
        """Take the file lock (SQLite), connect, and apply pending migrations."""
        if self._db is not None:
            raise RuntimeError("the store is already open")
        try:
            if is_sqlite(self._url):
                path = self._url.database or ""
                self._file_lock = await asyncio.to_thread(lock_database_file, path)
            self._db = Database(self._url, clock=self._clock, on_write=self._on_write)
            await self._db.write(_migrate)
        except BaseException:
            await self.close()
            raise
        self._tables = _Tables(self._db)

    async def close(self) -> None:
        """Finish queued writes, close every connection and release the file lock; safe twice."""
        db, self._db, self._tables = self._db, None, None
        if db is not None:
            await db.close()
        lock, self._file_lock = self._file_lock, None
        if lock is not None:
            await asyncio.to_thread(lock.release)

    @property
    def _open(self) -> _Tables:
        if self._tables is None:
            raise RuntimeError("the store is not open")
        return self._tables

    # users

    async def get_prefs(self, platform: str, user_id: str) -> UserPrefs:
        """The user's preferences; all None for a user never seen."""
        return await self._open.prefs.get_prefs(platform, user_id)

    async def set_prefs(self, platform: str, user_id: str, **changes: str | None) -> UserPrefs:
        """Update the given fields (model, language, voice) and return the new prefs."""
        return await self._open.prefs.set_prefs(platform, user_id, **changes)

    # conversations

    async def load_context(
        self, key: ConversationKey, max_messages: int = 200
    ) -> list[StoredMessage]:
        """The newest turns of the current conversation, oldest first, at most `max_messages`."""
        return await self._open.conversations.load_context(key, max_messages)

    async def append_messages(
        self, key: ConversationKey, messages: list[StoredMessage], usage: UsageEvent | None = None
    ) -> None:
        """Add turns atomically, with the usage that paid for them in the same transaction."""
        await self._open.conversations.append_messages(key, messages, usage)

    async def reset_conversation(self, key: ConversationKey) -> None:
        """Start a new conversation; the old one is kept but no longer loaded."""
        await self._open.conversations.reset_conversation(key)

    async def set_summary(self, key: ConversationKey, summary: str) -> None:
        """Remember a summary of turns that were trimmed away."""
        await self._open.conversations.set_summary(key, summary)

    async def get_summary(self, key: ConversationKey) -> str:
        """The active conversation's summary; "" when there is none."""
        return await self._open.conversations.get_summary(key)

    # jobs

    async def create_job(self, job: JobRecord) -> JobRecord:
        """Store a new job (before its submit is sent) and return it with its id."""
        return await self._open.jobs.create_job(job)

    async def set_job_upstream(
        self,
        job_id: int,
        upstream_id: str,
        status: JobStatus,
        *,
        poll_lease_until: float | None = None,
    ) -> JobRecord:
        """The upstream accepted the submit: its task id, and PENDING (or MODAL: it waits);
        held for this process's poller until `poll_lease_until` when given."""
        return await self._open.jobs.set_job_upstream(
            job_id, upstream_id, status, poll_lease_until=poll_lease_until
        )

    async def set_job_prompt(self, job_id: int, prompt: str) -> JobRecord:
        """The prompt the user gave a job waiting in MODAL, before it is sent."""
        return await self._open.jobs.set_job_prompt(job_id, prompt)

    async def set_job_message(self, job_id: int, message_id: str) -> JobRecord:
        """The job's message in the chat is now this one."""
        return await self._open.jobs.set_job_message(job_id, message_id)

    async def mark_modal(self, job_id: int) -> JobRecord:
        """The upstream holds the job for its owner's prompt (status MODAL)."""
        return await self._open.jobs.mark_modal(job_id)

    async def mark_pending(self, job_id: int) -> JobRecord:
        """The job's upstream task is to be polled again (its last step's answer was lost)."""
        return await self._open.jobs.mark_pending(job_id)

    async def adopt_task(self, job_id: int, upstream_id: str) -> JobRecord:
        """An unknown job turned out to be this upstream task: PENDING, to be delivered."""
        return await self._open.jobs.adopt_task(job_id, upstream_id)

    async def set_job_result(self, job_id: int, result: JobResult) -> JobRecord:
        """Replace what the job carries besides its status (see `JobResult`)."""
        return await self._open.jobs.set_job_result(job_id, result)

    async def save_progress(
        self, job_id: int, progress: str, image_url: str, message_id: str | None = None
    ) -> JobRecord:
        """The latest progress the upstream reported (and the message showing it, if it moved)."""
        return await self._open.jobs.save_progress(job_id, progress, image_url, message_id)

    async def finish_job(
        self,
        job_id: int,
        finish: JobFinish,
        *,
        delivered: bool = False,
        message_id: str | None = None,
    ) -> JobRecord:
        """The job ended; `delivered` once its chat has been told (in `message_id`, if given)."""
        return await self._open.jobs.finish_job(
            job_id, finish, delivered=delivered, message_id=message_id
        )

    async def mark_delivered(self, job_id: int, message_id: str | None = None) -> JobRecord:
        """The stored result (or failure) reached the chat, in `message_id` when given."""
        return await self._open.jobs.mark_delivered(job_id, message_id)

    async def get_job(self, job_id: int) -> JobRecord | None:
        """The job with our id, or None."""
        return await self._open.jobs.get_job(job_id)

    async def list_jobs(self, statuses: list[JobStatus], limit: int = 1000) -> list[JobRecord]:
        """Jobs in the given statuses, oldest first."""
        return await self._open.jobs.list_jobs(statuses, limit)

    async def get_job_by_upstream(self, upstream_id: str) -> JobRecord | None:
        """The job following the upstream task `upstream_id`, or None."""
        return await self._open.jobs.get_job_by_upstream(upstream_id)

    async def list_user_jobs(
        self, platform: str, owner_id: str, limit: int = 10
    ) -> list[JobRecord]:
        """One user's newest jobs, newest first (their /jobs list)."""
        return await self._open.jobs.list_user_jobs(platform, owner_id, limit)

    async def find_child_job(self, parent_upstream_id: str, custom_id: str) -> JobRecord | None:
        """The newest job an action (`custom_id`) on that parent produced, failed ones aside."""
        return await self._open.jobs.find_child_job(parent_upstream_id, custom_id)

    async def list_undelivered(self) -> list[JobRecord]:
        """Finished jobs whose result has not reached the chat yet."""
        return await self._open.jobs.list_undelivered()

    async def claim_jobs_for_poll(
        self, now: float, limit: int, *, lease_s: float | None = None
    ) -> list[JobRecord]:
        """Pending jobs due for a poll, most overdue first; leased with `lease_s`."""
        return await self._open.jobs.claim_jobs_for_poll(now, limit, lease_s=lease_s)

    async def renew_poll_leases(self, job_ids: list[int], until: float) -> None:
        """Keep holding pending jobs this process polls (their `next_poll_at` becomes `until`)."""
        await self._open.jobs.renew_poll_leases(job_ids, until)

    # buttons

    async def issue_tokens(self, actions: list[ButtonAction]) -> list[str]:
        """Store actions and return a short opaque token (<= 20 bytes) for each, in order."""
        return await self._open.tokens.issue_tokens(actions)

    async def resolve_token(self, token: str) -> ButtonAction | None:
        """The action behind a token; None when unknown or expired."""
        return await self._open.tokens.resolve_token(token)

    async def purge_expired_tokens(self, now: float) -> int:
        """Delete tokens whose `expires_at` is at or before `now`; returns how many."""
        return await self._open.tokens.purge_expired_tokens(now)

    # text requests

    async def open_text_request(self, request: PendingText) -> None:
        """Store a pending text request under its `token` (chosen by the caller, <= 20 bytes)."""
        await self._open.text_requests.open_text_request(request)

    async def bind_text_request(self, token: str, chat_id: str, message_id: str) -> None:
        """Remember the message that asked (answers may come as replies to it)."""
        await self._open.text_requests.bind_text_request(token, chat_id, message_id)

    async def find_text_request(
        self,
        token: str | None = None,
        *,
        platform: str = "",
        chat_id: str = "",
        message_id: str = "",
    ) -> PendingText | None:
        """The request by its token, or by the message that asked; expired ones included."""
        return await self._open.text_requests.find_text_request(
            token, platform=platform, chat_id=chat_id, message_id=message_id
        )

    async def close_text_request(self, token: str) -> bool:
        """Delete a request; True when this call removed it (so it is answered only once)."""
        return await self._open.text_requests.close_text_request(token)

    async def purge_expired_text_requests(self, now: float) -> int:
        """Delete requests whose `expires_at` is at or before `now`; returns how many."""
        return await self._open.text_requests.purge_expired_text_requests(now)

    # usage

    async def record_usage(self, event: UsageEvent) -> None:
        """Remember one billable call, stamped now."""
        await self._open.usage.record_usage(event)

    async def usage_summary(self, platform: str, user_id: str, since: float) -> dict[str, Any]:
        """Totals of one user's usage recorded at or after `since` (see `Store.usage_summary`)."""
        return await self._open.usage.usage_summary(platform, user_id, since)
