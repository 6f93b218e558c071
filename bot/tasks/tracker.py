"""One polling loop per process for every pending Midjourney job, fanning changes out to the chats.

Each cycle asks `mj_list` for all due jobs at once (batches of BATCH_SIZE ids, all in flight
together) and only then sleeps, so however many jobs are pending there is at most one set of
requests per interval. A job is polled often right after its submit and less often as it ages,
and often again for a while once it reaches its last progress step, as its result is close.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from bot.channel import Channel, MessageRef
from bot.replies import Button, Image, Progress, Reply
from bot.services import Services
from bot.tasks.eta import Sighting, expected_finish
from bot.tasks.flow import offer_prompt
from bot.tasks.jobs import chat_of
from bot.tasks.render import fetch_image, final_reply, image_rows, progress_state
from bot.upstream import MjTask, UpstreamError
from storage.base import JobRecord, JobStatus

log = logging.getLogger(__name__)

BATCH_SIZE = 100
GROWTH = 1.5  # each poll of a job stretches its interval by this much, up to the maximum
RETRY_MAX_S = 300.0
LANGUAGE_TTL_S = 60.0  # how long an owner's language preference is trusted without a look-up
NEAR_END_PERCENT = 90  # Midjourney's last step before the result is 93%
# Jobs recorded and submitted at once. A Midjourney account runs 3 to 12 jobs at a time and
# a proxy queues about ten more (then answers "queue full"), so admitting faster gains users
# nothing; a small gate keeps the process free for the jobs that finish meanwhile, whose
# results are what people wait for (bench/core_imagine.py: 200 jobs, result p99 halved).
ADMITTED = 4


@dataclass(slots=True)
class _Watch:
    job: JobRecord
    interval: float
    next_at: float  # time.monotonic()
    busy: bool = False
    language: str | None = None
    preview_at: float = -math.inf  # when the last preview download started
    near_end_at: float | None = None  # when the job was first seen at its last progress step
    first_progress: Sighting | None = None  # the first progress this process saw, and when
    expect_at: float | None = None  # when the job should finish, at its pace so far


@dataclass(slots=True)
class _Retry:
    next_at: float
    attempts: int


def _base(url: str | None) -> str:
    return (url or "").split("?", 1)[0]


class TaskTracker:
    """Polls pending jobs in batches, persists changes, delivers results, resumes on restart."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._watched: dict[int, _Watch] = {}
        self._retries: dict[int, _Retry] = {}
        self._unsaved: dict[int, dict[str, Any]] = {}  # progress not yet written, per job
        self._savers: dict[int, asyncio.Task[None]] = {}
        self._writing: set[int] = set()
        self._previews: dict[int, asyncio.Task[None]] = {}
        self._languages: dict[tuple[str, str], tuple[str, float]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._purger: asyncio.Task[None] | None = None
        self.cycles = 0  # poll cycles run, for benchmarks and logs
        # New jobs are recorded and submitted a few at a time: the store has one writer, and
        # a burst of submits queued ahead would hold up the writes that deliver finished jobs.
        self.admission: asyncio.Semaphore = asyncio.Semaphore(ADMITTED)

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
        # MODAL jobs wait for their owner's prompt: their ✏️ message and its stored text
        # request outlive the restart, so there is nothing to resume.
        for job in await store.list_undelivered():
            self._spawn(self._deliver(job))
        if self._loop is None or self._loop.done():
            self._loop = asyncio.create_task(self._run(), name="mj-tracker")
        if self._purger is None or self._purger.done():
            self._purger = asyncio.create_task(self._purge_expired(), name="purge-expired")

    async def stop(self) -> None:
        """Stop polling and every delivery in flight; unfinished work resumes on the next start."""
        tasks = [
            *self._tasks,
            *self._savers.values(),
            *self._previews.values(),
            *([self._loop] if self._loop else []),
            *([self._purger] if self._purger else []),
        ]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._loop = None
        self._purger = None
        self._tasks.clear()

    def watch(self, job: JobRecord, language: str | None = None) -> None:
        """Track a job that now has an upstream id; first poll one minimum interval later.

        `language` is the owner's when the caller knows it (else it is looked up when needed).
        """
        if not job.upstream_id:
            raise ValueError(f"job {job.id} has no upstream id to poll")
        interval = self.services.settings.mj_poll_min_interval_s
        self._watched[job.id] = _Watch(job, interval, time.monotonic() + interval, False, language)
        self._wake.set()

    def pending_count(self, platform: str | None = None) -> int:
        """Jobs being polled (a job waiting for its owner's prompt is not: it waits for them)."""
        return sum(1 for w in self._watched.values() if platform in (None, w.job.platform))

    async def wait_idle(self, timeout: float, platform: str | None = None) -> bool:  # noqa: ASYNC109
        """Wait until no job is pending and no delivery is in flight; False on timeout."""
        deadline = time.monotonic() + timeout
        while self.pending_count(platform) or self._tasks or self._savers or self._previews:
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    # --- housekeeping ----------------------------------------------------------------------
    async def _purge_expired(self) -> None:
        """Delete expired button tokens and text requests, now and every `purge_interval_s`."""
        store = self.services.store
        while True:
            try:
                now = time.time()
                tokens = await store.purge_expired_tokens(now)
                requests = await store.purge_expired_text_requests(now)
                if tokens or requests:
                    log.info("purged %d expired button tokens, %d text requests", tokens, requests)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("purging expired tokens failed; trying again later")
            await asyncio.sleep(self.services.settings.purge_interval_s)

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
            times += [r.next_at for r in self._retries.values() if r.next_at != math.inf]
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
        changed: list[tuple[_Watch, MjTask]] = []
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
                if task is not None:
                    self._reschedule(watch, task, now)
                if task is not None and self._changed_since(watch.job, task):
                    changed.append((watch, task))
        # Finished jobs first: their work starts first, and someone waits for the result.
        for watch, task in sorted(changed, key=lambda pair: not pair[1].is_finished):
            watch.busy = True
            self._spawn(self._apply(watch, task))
        for job_id, retry in list(self._retries.items()):
            if retry.next_at <= now:
                retry.next_at = math.inf  # until this attempt reports back
                self._spawn(self._redeliver(job_id))

    def _reschedule(self, watch: _Watch, task: MjTask, now: float) -> None:
        """Poll sooner than the growing interval would when the result is close."""
        settings = self.services.settings
        fastest, longest = settings.mj_poll_min_interval_s, settings.mj_poll_max_interval_s
        percent = task.percent or 0
        if task.status == "IN_PROGRESS" and 0 < percent < 100:
            if watch.first_progress is None:
                watch.first_progress = (now, percent)
            else:
                expected = expected_finish(watch.first_progress, (now, percent))
                if expected is not None:
                    watch.expect_at = expected
        if self._near_end(watch, task, now):
            # The last progress step: the result is close, so it is looked for often
            # (for one maximum interval, in case the job stalls there).
            watch.next_at = now + fastest
        elif watch.expect_at is not None and now < watch.expect_at + longest:
            # Its pace says when it should finish: looked for from then on, often, for one
            # maximum interval, rather than up to a whole (grown) interval later.
            watch.next_at = min(watch.next_at, max(now + fastest, watch.expect_at))

    def _near_end(self, watch: _Watch, task: MjTask, now: float) -> bool:
        if task.status != "IN_PROGRESS" or (task.percent or 0) < NEAR_END_PERCENT:
            return False
        if watch.near_end_at is None:
            watch.near_end_at = now
        return now - watch.near_end_at < self.services.settings.mj_poll_max_interval_s

    @staticmethod
    def _changed_since(job: JobRecord, task: MjTask) -> bool:
        if task.is_finished or task.status == "MODAL":
            return True
        # Gateways add a cache-buster (`?rand=`) to preview URLs on every fetch: not a change.
        return task.progress != job.progress or _base(task.image_url) != _base(job.image_url)

    # --- applying one change ----------------------------------------------------------------
    async def _apply(self, watch: _Watch, task: MjTask) -> None:
        try:
            if task.status == "MODAL":
                self._unwatch(watch.job.id)
                await self._preview_stopped(watch.job.id)
                job = await self.services.store.update_job(watch.job.id, status=JobStatus.MODAL)
                await self._offer_prompt(job, watch.language)
            elif task.is_finished:
                self._unwatch(watch.job.id)
                try:
                    await self._finish(watch.job, task, watch.language)
                except Exception:
                    # Not stored as finished: poll it again rather than lose a paid result.
                    log.exception("finishing job %s failed; polling it again", watch.job.id)
                    self.watch(watch.job)
            else:
                watch.job = await self._progress(watch, task)
        finally:
            watch.busy = False
            self._wake.set()

    async def _progress(self, watch: _Watch, task: MjTask) -> JobRecord:
        job = watch.job
        changes: dict[str, Any] = {"progress": task.progress, "image_url": task.image_url or ""}
        channel = self.services.channel_for(job.platform)
        if channel is not None:
            if watch.language is None:
                watch.language = await self._language(job)
            language = watch.language
            # The new percent goes out at once; the preview (a download) follows on its own,
            # so a slow download never holds up the next poll of this job.
            state = progress_state(self.services, language, job, task.percent, None)
            message_id = await self._show_progress(channel, job, job.message_id, state)
            # Previews are heavy and chats show edits at a human pace: one per maximum interval,
            # and none while a burst of new jobs fills the admission gate (the percent still
            # goes out), so their downloads do not compete with the submits and the results.
            now = time.monotonic()
            if (
                task.image_url
                and now - watch.preview_at >= self.services.settings.mj_poll_max_interval_s
                and not self.admission.locked()
            ):
                watch.preview_at = now
                self._fetch_preview(
                    dataclasses.replace(job, message_id=message_id), task, channel, language
                )
            if message_id != job.message_id:
                changes["message_id"] = message_id
        self._persist_progress(job.id, changes)
        return dataclasses.replace(job, **changes)

    def _fetch_preview(self, job: JobRecord, task: MjTask, channel: Channel, language: str) -> None:
        older = self._previews.pop(job.id, None)
        if older is not None:
            older.cancel()  # latest wins
        preview = asyncio.create_task(self._show_preview(job, task, channel, language))
        self._previews[job.id] = preview
        preview.add_done_callback(lambda done: self._preview_done(job.id, done))

    def _preview_done(self, job_id: int, task: asyncio.Task[None]) -> None:
        if self._previews.get(job_id) is task:
            del self._previews[job_id]

    async def _show_preview(
        self, job: JobRecord, task: MjTask, channel: Channel, language: str
    ) -> None:
        try:
            image = await fetch_image(self.services, task.image_url or "", "preview")
            state = progress_state(self.services, language, job, task.percent, image)
            await self._show_progress(channel, job, job.message_id, state)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.info("preview of job %s not shown: %r", job.id, exc)

    async def _preview_stopped(self, job_id: int) -> None:
        """Cancel a preview in flight, so it cannot land on top of the final result."""
        preview = self._previews.pop(job_id, None)
        if preview is not None:
            preview.cancel()
            await asyncio.gather(preview, return_exceptions=True)

    async def _show_progress(
        self, channel: Channel, job: JobRecord, message_id: str | None, state: Progress
    ) -> str:
        chat = chat_of(job)
        if message_id:
            try:
                ref = await channel.progress(MessageRef(chat, message_id), chat, state)
                return ref.message_id
            except Exception:
                log.warning("progress message of job %s is gone; starting a new one", job.id)
        return (await channel.progress(None, chat, state)).message_id

    def _persist_progress(self, job_id: int, changes: dict[str, Any]) -> None:
        # Progress is cosmetic: the chat gets it first and the store gets the latest state a
        # little later (latest wins, at most one write per job per maximum interval), so
        # database writes never hold up polling; a job that finishes first needs none at all,
        # as its finish carries the final progress.
        self._unsaved[job_id] = {**self._unsaved.get(job_id, {}), **changes}
        if job_id not in self._savers:
            self._savers[job_id] = asyncio.create_task(self._save_progress(job_id))

    async def _save_progress(self, job_id: int) -> None:
        try:
            while job_id in self._unsaved:
                await asyncio.sleep(self.services.settings.mj_poll_max_interval_s)
                changes = self._unsaved.pop(job_id, None)
                if changes is None:
                    break
                self._writing.add(job_id)
                try:
                    await self.services.store.update_job(job_id, **changes)
                except Exception:
                    log.exception("progress of job %s not stored", job_id)
                finally:
                    self._writing.discard(job_id)
        finally:
            self._savers.pop(job_id, None)

    async def _progress_saved(self, job_id: int) -> None:
        """Drop progress not yet written and wait for a write in flight (before the finish)."""
        self._unsaved.pop(job_id, None)
        saver = self._savers.get(job_id)
        if saver is None:
            return
        if job_id not in self._writing:
            saver.cancel()  # only waiting to write: nothing left to write
        await asyncio.gather(saver, return_exceptions=True)

    async def _finish(self, job: JobRecord, task: MjTask, language: str | None) -> None:
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
        finished = dataclasses.replace(job, **changes)
        if finished.status != JobStatus.SUCCESS or not finished.image_url:
            await self._preview_stopped(job.id)
            await self._deliver(finished, None, changes, language)
            return
        # The image download starts first; the token write for its buttons and stopping a
        # preview in flight (it must not land on top of the result) overlap it.
        download = asyncio.ensure_future(
            fetch_image(self.services, finished.image_url, f"mj_{job.upstream_id}", urgent=True)
        )
        try:
            language = language or await self._language(job)
            rows, _ = await asyncio.gather(
                image_rows(self.services, language, finished, has_image=True),
                self._preview_stopped(job.id),
            )
        except BaseException:
            download.cancel()
            await asyncio.gather(download, return_exceptions=True)
            raise
        try:
            image = await download
        except UpstreamError as exc:
            log.warning("image of job %s not downloaded yet: %r", job.id, exc)
            await self._progress_saved(job.id)
            await self.services.store.update_job(job.id, **changes)
            self._schedule_retry(job.id)
            return
        await self._deliver(finished, image, changes, language, rows)

    async def _expire(self, watch: _Watch) -> None:
        job = watch.job
        log.warning("job %s (%s) passed its deadline", job.id, job.upstream_id)
        try:
            self._unwatch(job.id)
            await self._preview_stopped(job.id)
            changes: dict[str, Any] = {
                "status": JobStatus.FAILURE,
                "fail_reason": "deadline",
                "result": {**job.result, "deadline": True},
            }
            await self._deliver(await self.services.store.update_job(job.id, **changes))
        finally:
            watch.busy = False

    # --- delivery ---------------------------------------------------------------------------
    async def _deliver(
        self,
        job: JobRecord,
        image: Image | None = None,
        changes: dict[str, Any] | None = None,
        language: str | None = None,
        rows: tuple[tuple[Button, ...], ...] | None = None,
    ) -> None:
        """Show a finished job's result, then store `changes` (its finish) with delivered=True.

        The finish is written once, after the chat took the message, so the user never waits
        behind a queue of database writes; a crash in between means the job is polled and shown
        again after the restart (never resubmitted). When the chat refuses, the finish is stored
        undelivered and the delivery is retried from the stored record until it works.
        """
        changes = changes or {}
        channel = self.services.channel_for(job.platform)
        try:
            if channel is None:
                raise LookupError(f"no {job.platform} channel is running")
            language = language or await self._language(job)
            reply = await final_reply(self.services, language, job, image, rows)
            ref = await self._show(channel, job, reply)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("delivering job %s failed; will try again", job.id)
            if changes:
                await self._progress_saved(job.id)
                await self.services.store.update_job(job.id, **changes)
            self._schedule_retry(job.id)
            return
        # A late progress write must not land after (and undo) the finish.
        await self._progress_saved(job.id)
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
    async def _offer_prompt(self, job: JobRecord, language: str | None) -> None:
        channel = self.services.channel_for(job.platform)
        if channel is None:
            log.warning("no %s channel to ask for job %s's prompt", job.platform, job.id)
            return
        await offer_prompt(self.services, channel, job, language or await self._language(job))

    # --- helpers ----------------------------------------------------------------------------
    def _unwatch(self, job_id: int) -> None:
        self._watched.pop(job_id, None)

    async def _language(self, job: JobRecord) -> str:
        key = (job.platform, job.owner_id)
        cached = self._languages.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        prefs = await self.services.store.get_prefs(job.platform, job.owner_id)
        language = self.services.catalog.resolve_language(prefs.language)
        self._languages[key] = (language, time.monotonic() + LANGUAGE_TTL_S)
        return language

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
