"""Money-safe submits: a job is stored before its submit is sent, and never sent twice."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.channel import ChatRef
from bot.services import Services
from bot.upstream import SubmitResult, UpstreamError
from storage.base import JobRecord, JobStatus

log = logging.getLogger(__name__)

Submit = Callable[[], Awaitable[SubmitResult]]


def new_job(chat: ChatRef, owner_id: str, kind: str, prompt: str, **fields: Any) -> JobRecord:
    """A job record for `chat` owned by `owner_id`, not stored yet; `fields` set the rest."""
    now = time.time()
    job = JobRecord(
        id=0,
        platform=chat.platform,
        chat_id=chat.chat_id,
        thread_id=chat.thread_id or "",
        owner_id=owner_id,
        kind=kind,
        prompt=prompt,
        chat_private=chat.is_private,
        created_at=now,
        updated_at=now,
    )
    return dataclasses.replace(job, **fields)


def chat_of(job: JobRecord) -> ChatRef:
    """Where the job's messages go."""
    return ChatRef(job.platform, job.chat_id, job.chat_private, job.thread_id or None)


async def send_submit(
    services: Services, job: JobRecord, submit: Submit, *, language: str | None = None
) -> tuple[JobRecord, SubmitResult]:
    """Send a submit for a stored job and record its outcome at once.

    Accepted: the upstream id is stored (PENDING, or MODAL when the upstream waits for text);
    a PENDING job is handed to the tracker while that write is under way.
    Refused: FAILURE with the reason, or UNKNOWN when the error says it may have been charged;
    the error is re-raised so the caller's user sees it. A process that dies while waiting
    leaves the job SUBMITTING, which the tracker turns UNKNOWN on restart. `language`, the
    owner's, saves the tracker a look-up when it shows the job's progress and result.
    """
    store = services.store
    try:
        result = await submit()
    except UpstreamError as exc:
        status = JobStatus.UNKNOWN if exc.maybe_charged else JobStatus.FAILURE
        await store.update_job(job.id, status=status, fail_reason=exc.user_message, delivered=True)
        raise
    except Exception:
        # Not an answer we understood: it may have reached the upstream, so never send it again.
        await store.update_job(job.id, status=JobStatus.UNKNOWN, delivered=True)
        raise
    if not result.task_id:
        log.error("submit for job %s accepted without a task id (code %s)", job.id, result.code)
        await store.update_job(job.id, status=JobStatus.UNKNOWN, delivered=True)
        raise UpstreamError("accepted submit without a task id", maybe_charged=True)
    status = JobStatus.MODAL if result.needs_modal else JobStatus.PENDING
    write = asyncio.ensure_future(
        store.update_job(job.id, status=status, upstream_id=result.task_id)
    )
    if status == JobStatus.PENDING:
        if services.tracker is None:
            raise RuntimeError("no task tracker is running")
        # Polling starts now, not after the write: under load the store's single writer may
        # be seconds behind, and the upstream does not wait. The write is already queued, so
        # it lands before any write the tracker makes for this job.
        services.tracker.watch(
            dataclasses.replace(job, status=status, upstream_id=result.task_id), language
        )
    return await write, result

