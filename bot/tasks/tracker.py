"""One polling loop per process for every pending Midjourney job, fanning changes out to the chats.

Each cycle asks `mj_list` for all due jobs at once (batches of BATCH_SIZE ids, all in flight
together) and only then sleeps, so however many jobs are pending there is at most one set of
requests per interval. A job is polled often right after its submit and less often as it ages.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from bot.channel import Actor, Channel, MessageRef
from bot.core import Services
from bot.replies import Image, Reply, text_reply
from bot.tasks.flow import complete_modal
from bot.tasks.jobs import chat_of
from bot.tasks.render import fetch_image, final_reply, progress_state
from bot.upstream import MjTask, UpstreamError
from storage.base import JobRecord, JobStatus

log = logging.getLogger(__name__)

BATCH_SIZE = 100
GROWTH = 1.5  # each poll of a job stretches its interval by this much, up to the maximum
RETRY_MAX_S = 300.0


@dataclass(slots=True)
class _Watch:
    job: JobRecord
    interval: float
    next_at: float  # time.monotonic()
    busy: bool = False
    language: str | None = None


@dataclass(slots=True)
class _Retry:
    next_at: float
    attempts: int


class TaskTracker:
    """Polls pending jobs in batches, persists changes, delivers results, resumes on restart."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._watched: dict[int, _Watch] = {}
        self._retries: dict[int, _Retry] = {}
        self._modal: dict[int, str] = {}  # job id -> platform, while the owner is asked for text
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self.cycles = 0  # poll cycles run, for benchmarks and logs

    # --- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        """Resume from the store and start the loop (see the module docstring)."""
        store = self.services.store
        for job in await store.list_jobs([JobStatus.SUBMITTING]):
            # It may or may not have reached the upstream: never resubmit, tell the owner.
            log.warning("job %s was left submitting by a previous run; marking it unknown", job.id)
            await store.update_job(job.id, status=JobStatus.UNKNOWN, delivered=False)
        for job in await store.list_jobs([JobStatus.PENDING]):
            if job.upstream_id:
                self.watch(job)
        for job in await store.list_jobs([JobStatus.MODAL]):
            if job.upstream_id:
                self._ask_remix(job)
        for job in await store.list_undelivered():
            self._spawn(self._deliver(job))
        if self._loop is None or self._loop.done():
            self._loop = asyncio.create_task(self._run(), name="mj-tracker")

    async def stop(self) -> None:
        """Stop polling and every delivery in flight; unfinished work resumes on the next start."""
        tasks = [*self._tasks, *([self._loop] if self._loop else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._loop = None
        self._tasks.clear()

    def watch(self, job: JobRecord) -> None:
        """Track a job that now has an upstream id; first poll one minimum interval later."""
        if not job.upstream_id:
            raise ValueError(f"job {job.id} has no upstream id to poll")
        interval = self.services.settings.mj_poll_min_interval_s
        self._watched[job.id] = _Watch(job, interval, time.monotonic() + interval)
        self._wake.set()

    def pending_count(self, platform: str | None = None) -> int:
        """Jobs not finished yet (polled, or waiting for their owner's text)."""
        polled = sum(1 for w in self._watched.values() if platform in (None, w.job.platform))
        asked = sum(1 for p in self._modal.values() if platform in (None, p))
        return polled + asked

    async def wait_idle(self, timeout: float, platform: str | None = None) -> bool:  # noqa: ASYNC109
        """Wait until no job is pending and no delivery is in flight; False on timeout."""
        deadline = time.monotonic() + timeout
        while self.pending_count(platform) or self._tasks:
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    # --- the loop ---------------------------------------------------------------------------
    async def _run(self) -> None:
        settings = self.services.settings
        last_cycle = -math.inf
        while True:
            try:
                await self._sleep_until_due(last_cycle + settings.mj_poll_min_interval_s)
                last_cycle = time.monotonic()
                await self._cycle()
                self.cycles += 1
            except asyncio.CancelledError:
                raise
            except Exception:
                # Whatever broke, the loop must outlive it: jobs are paid for.
                log.exception("Midjourney poll cycle failed; retrying")
                await asyncio.sleep(settings.mj_poll_max_interval_s)

    async def _sleep_until_due(self, not_before: float) -> None:
        while True:
            times = [w.next_at for w in self._watched.values() if not w.busy]
            times += [r.next_at for r in self._retries.values()]
            self._wake.clear()
            now = time.monotonic()
            if times:
                due = max(min(times), not_before)
                if due <= now:
                    return
                timeout: float | None = due - now
            else:
                timeout = None
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                return

    async def _cycle(self) -> None:
        settings = self.services.settings
        now = time.monotonic()
        # Jobs due within half a minimum interval ride along, so due times bunch into one set.
        horizon = now + settings.mj_poll_min_interval_s / 2
        due = [w for w in self._watched.values() if not w.busy and w.next_at <= horizon]
        wall = time.time()
        expired = [w for w in due if wall - w.job.created_at > settings.mj_task_deadline_s]
        for watch in expired:
            watch.busy = True
            self._spawn(self._expire(watch))
        polled = [w for w in due if not w.busy]
        batches = [polled[i : i + BATCH_SIZE] for i in range(0, len(polled), BATCH_SIZE)]
        answers = await asyncio.gather(
            *(self.services.client.mj_list([w.job.upstream_id or "" for w in b]) for b in batches),
            return_exceptions=True,
        )
        for batch, answer in zip(batches, answers, strict=True):
            for watch in batch:
                watch.next_at = now + watch.interval
                watch.interval = min(settings.mj_poll_max_interval_s, watch.interval * GROWTH)
            if isinstance(answer, BaseException):
                if isinstance(answer, asyncio.CancelledError):
                    raise answer
                log.warning("polling %d Midjourney jobs failed: %r", len(batch), answer)
                continue
            by_id = {task.id: task for task in answer}
            for watch in batch:
                task = by_id.get(watch.job.upstream_id or "")
                if task is not None and self._changed_since(watch.job, task):
                    watch.busy = True
                    self._spawn(self._apply(watch, task))
        for job_id, retry in list(self._retries.items()):
            if retry.next_at <= now:
                retry.next_at = math.inf  # until this attempt reports back
                self._spawn(self._redeliver(job_id))

    @staticmethod
    def _changed_since(job: JobRecord, task: MjTask) -> bool:
        if task.is_finished or task.status == "MODAL":
            return True
        return (task.progress, task.image_url or "") != (job.progress, job.image_url)

    # --- applying one change ----------------------------------------------------------------
    async def _apply(self, watch: _Watch, task: MjTask) -> None:
        try:
            if task.status == "MODAL":
                self._unwatch(watch.job.id)
                job = await self.services.store.update_job(watch.job.id, status=JobStatus.MODAL)
                self._ask_remix(job)
            elif task.is_finished:
                self._unwatch(watch.job.id)
                await self._finish(watch.job, task)
            else:
                watch.job = await self._progress(watch, task)
        finally:
            watch.busy = False
            self._wake.set()

    async def _progress(self, watch: _Watch, task: MjTask) -> JobRecord:
        job = watch.job
        preview: Image | None = None
        if task.image_url and task.image_url != job.image_url:
            try:
                preview = await fetch_image(self.services, task.image_url, "preview")
            except UpstreamError as exc:
                log.info("preview of job %s not downloaded: %r", job.id, exc)
        changes: dict[str, Any] = {"progress": task.progress, "image_url": task.image_url or ""}
        channel = self.services.channel_for(job.platform)
        if channel is not None:
            # The chat first, the store after: progress is cosmetic, and the user should not
            # wait behind a queue of database writes to see it.
            if watch.language is None:
                watch.language = await self._language(job)
            state = progress_state(self.services, watch.language, job, task.percent, preview)
            chat = chat_of(job)
            ref: MessageRef | None = None
            if job.message_id:
                try:
                    ref = await channel.progress(MessageRef(chat, job.message_id), chat, state)
                except Exception:
                    log.warning("progress message of job %s is gone; starting a new one", job.id)
            if ref is None:
                ref = await channel.progress(None, chat, state)
            if ref.message_id != job.message_id:
                changes["message_id"] = ref.message_id
        return await self.services.store.update_job(job.id, **changes)

    async def _finish(self, job: JobRecord, task: MjTask) -> None:
        changes: dict[str, Any]
        if task.status == "SUCCESS":
            result = {
                **job.result,
                "final_prompt": task.final_prompt,
                "action": task.action,
                "description": task.description,
            }
            buttons = [
                {"customId": b.custom_id, "emoji": b.emoji, "label": b.label} for b in task.buttons
            ]
            changes = {
                "status": JobStatus.SUCCESS,
                "progress": task.progress,
                "image_url": task.image_url or "",
                "buttons": buttons,
                "result": result,
            }
        else:
            changes = {
                "status": JobStatus.FAILURE,
                "progress": task.progress,
                "fail_reason": task.fail_reason or task.status.lower(),
            }
        # The finish is stored before the user sees it, so the store never knows less than the
        # chat; the image download overlaps that write.
        write = self.services.store.update_job(job.id, **changes)
        if changes["status"] != JobStatus.SUCCESS or not task.image_url:
            await self._deliver(await write)
            return
        name = f"mj_{job.upstream_id}"
        stored, image = await asyncio.gather(
            write, fetch_image(self.services, task.image_url, name), return_exceptions=True
        )
        if isinstance(stored, BaseException):
            raise stored
        if isinstance(image, UpstreamError):
            log.warning("image of job %s not downloaded yet: %r", job.id, image)
            self._schedule_retry(job.id)
            return
        if isinstance(image, BaseException):
            raise image
        await self._deliver(stored, image)

    async def _expire(self, watch: _Watch) -> None:
        job = watch.job
        log.warning("job %s (%s) passed its deadline", job.id, job.upstream_id)
        try:
            self._unwatch(job.id)
            changes: dict[str, Any] = {
                "status": JobStatus.FAILURE,
                "fail_reason": "deadline",
                "result": {**job.result, "deadline": True},
            }
            await self._deliver(await self.services.store.update_job(job.id, **changes))
        finally:
            watch.busy = False

    # --- delivery ---------------------------------------------------------------------------
    async def _deliver(self, job: JobRecord, image: Image | None = None) -> None:
        """Show a finished (stored) job's result; mark it delivered once the chat took it.

        When the chat refuses, the delivery is retried from the stored record until it works.
        """
        channel = self.services.channel_for(job.platform)
        try:
            if channel is None:
                raise LookupError(f"no {job.platform} channel is running")
            language = await self._language(job)
            reply = await final_reply(self.services, language, job, image)
            ref = await self._show(channel, job, reply)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("delivering job %s failed; will try again", job.id)
            self._schedule_retry(job.id)
            return
        await self.services.store.update_job(job.id, delivered=True, message_id=ref.message_id)
        self._retries.pop(job.id, None)

    async def _show(self, channel: Channel, job: JobRecord, reply: Reply) -> MessageRef:
        chat = chat_of(job)
        if job.message_id and job.status == JobStatus.SUCCESS:
            # The progress message becomes the result, so the chat keeps one message per job.
            try:
                return await channel.edit(MessageRef(chat, job.message_id), reply)
            except Exception:
                log.info("could not edit the progress message of job %s; sending anew", job.id)
        return await channel.send(chat, reply)

    async def _redeliver(self, job_id: int) -> None:
        job = await self.services.store.get_job(job_id)
        if job is None or job.delivered:
            self._retries.pop(job_id, None)
            return
        await self._deliver(job)

    def _schedule_retry(self, job_id: int) -> None:
        attempts = self._retries[job_id].attempts + 1 if job_id in self._retries else 1
        delay = min(RETRY_MAX_S, self.services.settings.mj_poll_max_interval_s * 2**attempts)
        self._retries[job_id] = _Retry(time.monotonic() + delay, attempts)
        self._wake.set()

    # --- remix: the upstream waits for the owner's prompt -----------------------------------
    def _ask_remix(self, job: JobRecord) -> None:
        self._modal[job.id] = job.platform
        self._spawn(self._remix(job))

    async def _remix(self, job: JobRecord) -> None:
        try:
            channel = self.services.channel_for(job.platform)
            if channel is None:
                log.warning("no %s channel to ask for job %s's prompt", job.platform, job.id)
                return
            language = await self._language(job)
            chat = chat_of(job)
            try:
                await complete_modal(
                    self.services,
                    channel,
                    chat,
                    Actor(job.platform, job.owner_id),
                    language,
                    job,
                    mode="remix",
                )
            except UpstreamError as exc:
                text = self.services.catalog.t(language, "error.upstream", message=exc.user_message)
                await channel.send(chat, text_reply(text))
        finally:
            self._modal.pop(job.id, None)

    # --- helpers ----------------------------------------------------------------------------
    def _unwatch(self, job_id: int) -> None:
        self._watched.pop(job_id, None)

    async def _language(self, job: JobRecord) -> str:
        prefs = await self.services.store.get_prefs(job.platform, job.owner_id)
        return self.services.catalog.resolve_language(prefs.language)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(self._logged(work))
        self._tasks.add(task)
        task.add_done_callback(self._done)

    async def _logged(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("Midjourney tracker work failed")

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
