"""A finished job's result in its chat: the finish recorded, the image shown once, retried until
the chat takes it.

The finish is written once, after the chat took the message, so the user never waits behind a
queue of database writes; a crash in between means the job is polled and shown again after the
restart (never resubmitted). When the chat refuses, the finish is stored undelivered and the
delivery is retried from the stored record (ever later, see `schedule.retry_delay`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.channel import Channel, MessageRef
from bot.replies import Button, Image, Reply
from bot.services import Services
from bot.tasks.jobs import chat_of
from bot.tasks.languages import OwnerLanguages
from bot.tasks.previews import Previews
from bot.tasks.progress_writes import ProgressWrites
from bot.tasks.render import fetch_image, final_reply, image_rows
from bot.tasks.schedule import retry_delay
from bot.upstream import MjTask, UpstreamError
from storage.base import JobRecord, JobStatus

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Retry:
    next_at: float  # time.monotonic(); math.inf while an attempt is under way
    attempts: int


def finish_changes(job: JobRecord, task: MjTask) -> dict[str, Any]:
    """The job fields a finished upstream task sets (success: result and buttons; else why)."""
    if task.status != "SUCCESS":
        return {
            "status": JobStatus.FAILURE,
            "progress": task.progress,
            "fail_reason": task.fail_reason or task.status.lower(),
        }
    result = {
        **job.result,
        "final_prompt": task.final_prompt,
        "action": task.action,
        "description": task.description,
    }
    buttons = [{"customId": b.custom_id, "emoji": b.emoji, "label": b.label} for b in task.buttons]
    return {
        "status": JobStatus.SUCCESS,
        "progress": task.progress,
        "image_url": task.image_url or "",
        "buttons": buttons,
        "result": result,
    }


class Delivery:
    """Delivers finished jobs and keeps the ones whose delivery must be tried again."""

    def __init__(
        self,
        services: Services,
        previews: Previews,
        writes: ProgressWrites,
        languages: OwnerLanguages,
        wake: Callable[[], None],
    ) -> None:
        self.services = services
        self.previews = previews
        self.writes = writes
        self.languages = languages
        self._wake = wake  # the tracker's loop sleeps until the next retry is due
        self._retries: dict[int, _Retry] = {}

    # --- retries ----------------------------------------------------------------------------
    def next_retry_at(self) -> float | None:
        """When the next retry is due (time.monotonic()), None when none is waiting."""
        times = [r.next_at for r in self._retries.values() if r.next_at != math.inf]
        return min(times) if times else None

    def due_retries(self, now: float) -> list[int]:
        """Jobs whose retry is due now; each is marked under way until it reports back."""
        due = [job_id for job_id, retry in self._retries.items() if retry.next_at <= now]
        for job_id in due:
            self._retries[job_id].next_at = math.inf
        return due

    async def redeliver(self, job_id: int) -> None:
        """Try a stored, undelivered result again."""
        job = await self.services.store.get_job(job_id)
        if job is None or job.delivered:
            self._retries.pop(job_id, None)
            return
        await self.deliver(job)

    def _schedule_retry(self, job_id: int) -> None:
        attempts = self._retries[job_id].attempts + 1 if job_id in self._retries else 1
        delay = retry_delay(attempts, self.services.settings.mj_poll_max_interval_s)
        self._retries[job_id] = _Retry(time.monotonic() + delay, attempts)
        self._wake()

    # --- finishing --------------------------------------------------------------------------
    async def finish(self, job: JobRecord, task: MjTask, language: str | None) -> None:
        """The upstream says the job ended: download its image once and deliver it."""
        changes = finish_changes(job, task)
        finished = dataclasses.replace(job, **changes)
        if finished.status != JobStatus.SUCCESS or not finished.image_url:
            await self.previews.stop(job.id)
            await self.deliver(finished, None, changes, language)
            return
        # The image download starts first; the token write for its buttons and stopping a
        # preview in flight (it must not land on top of the result) overlap it.
        download = asyncio.ensure_future(
            fetch_image(self.services, finished.image_url, f"mj_{job.upstream_id}", urgent=True)
        )
        try:
            language = language or await self.languages.of(job)
            rows, _ = await asyncio.gather(
                image_rows(self.services, language, finished, has_image=True),
                self.previews.stop(job.id),
            )
        except BaseException:
            download.cancel()
            await asyncio.gather(download, return_exceptions=True)
            raise
        try:
            image = await download
        except UpstreamError as exc:
            log.warning("image of job %s not downloaded yet: %r", job.id, exc)
            await self.writes.settled(job.id)
            await self.services.store.update_job(job.id, **changes)
            self._schedule_retry(job.id)
            return
        await self.deliver(finished, image, changes, language, rows)

    async def expire(self, job: JobRecord) -> None:
        """The job passed its deadline: recorded as failed and its owner told."""
        log.warning("job %s (%s) passed its deadline", job.id, job.upstream_id)
        await self.previews.stop(job.id)
        changes: dict[str, Any] = {
            "status": JobStatus.FAILURE,
            "fail_reason": "deadline",
            "result": {**job.result, "deadline": True},
        }
        await self.deliver(await self.services.store.update_job(job.id, **changes))

    async def deliver(
        self,
        job: JobRecord,
        image: Image | None = None,
        changes: dict[str, Any] | None = None,
        language: str | None = None,
        rows: tuple[tuple[Button, ...], ...] | None = None,
    ) -> None:
        """Show a finished job's result, then store `changes` (its finish) with delivered=True."""
        changes = changes or {}
        channel = self.services.channel_for(job.platform)
        try:
            if channel is None:
                raise LookupError(f"no {job.platform} channel is running")
            language = language or await self.languages.of(job)
            reply = await final_reply(self.services, language, job, image, rows)
            ref = await self._show(channel, job, reply)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("delivering job %s failed; will try again", job.id)
            if changes:
                await self.writes.settled(job.id)
                await self.services.store.update_job(job.id, **changes)
            self._schedule_retry(job.id)
            return
        # A late progress write must not land after (and undo) the finish.
        await self.writes.settled(job.id)
        await self.services.store.update_job(
            job.id, **changes, delivered=True, message_id=ref.message_id
        )
        self._retries.pop(job.id, None)

    async def _show(self, channel: Channel, job: JobRecord, reply: Reply) -> MessageRef:
        chat = chat_of(job)
        if job.message_id:
            # The progress message becomes the result, so the chat keeps one message per job.
            try:
                return await channel.edit(MessageRef(chat, job.message_id), reply)
            except Exception:
                log.info("could not edit the progress message of job %s; sending anew", job.id)
        return await channel.send(chat, reply)
