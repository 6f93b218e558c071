"""One polling loop per process for every pending Midjourney job, fanning changes out to the chats.

Each cycle asks `mj_list` for all due jobs at once (batches of BATCH_SIZE ids, all in flight
together) and only then sleeps, so however many jobs are pending there is at most one set of
requests per interval. When each job is due is `schedule`'s; what a change shows is
`previews` (progress), `progress_writes` (storing it) and `delivery` (the result);
`housekeeping` purges what expired. The tracker coordinates: it resumes from the store, runs
the loop, and hands each change to its module.
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

from bot.services import Services
from bot.tasks.delivery import Delivery
from bot.tasks.flow import offer_prompt
from bot.tasks.housekeeping import past_deadline, tidy
from bot.tasks.languages import OwnerLanguages
from bot.tasks.previews import Previews
from bot.tasks.progress_writes import ProgressWrites
from bot.tasks.schedule import Intervals, Pace, changed_since, first_pace, polled, seen
from bot.upstream import MjTask
from storage.base import JobRecord, JobStatus

log = logging.getLogger(__name__)

BATCH_SIZE = 100
# Jobs recorded and submitted at once. A Midjourney account runs 3 to 12 jobs at a time and
# a proxy queues about ten more (then answers "queue full"), so admitting faster gains users
# nothing; a small gate keeps the process free for the jobs that finish meanwhile, whose
# results are what people wait for (bench/core_imagine.py: 200 jobs, result p99 halved).
ADMITTED = 4


@dataclass(slots=True)
class _Watch:
    job: JobRecord
    pace: Pace
    busy: bool = False
    language: str | None = None


class TaskTracker:
    """Polls pending jobs in batches, persists changes, delivers results, resumes on restart."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._watched: dict[int, _Watch] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._purger: asyncio.Task[None] | None = None
        self.languages = OwnerLanguages(services)
        self.previews = Previews(services)
        self.writes = ProgressWrites(services)
        self.delivery = Delivery(
            services, self.previews, self.writes, self.languages, self._wake.set
        )
        self.cycles = 0  # poll cycles run, for benchmarks and logs
        # New jobs are recorded and submitted a few at a time: the store has one writer, and
        # a burst of submits queued ahead would hold up the writes that deliver finished jobs.
        self.admission: asyncio.Semaphore = asyncio.Semaphore(ADMITTED)

    @property
    def intervals(self) -> Intervals:
        settings = self.services.settings
        return Intervals(settings.mj_poll_min_interval_s, settings.mj_poll_max_interval_s)

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
        # MODAL jobs wait for their owner's prompt. Their ✏️ is offered again (the message may
        # never have got it, had the process died in between); past the deadline the
        # housekeeping below ends them.
        for job in await store.list_jobs([JobStatus.MODAL]):
            if not past_deadline(self.services, job):
                self._spawn(self._offer_prompt(job, None))
        for job in await store.list_undelivered():
            self._spawn(self.delivery.deliver(job))
        if self._loop is None or self._loop.done():
            self._loop = asyncio.create_task(self._run(), name="mj-tracker")
        if self._purger is None or self._purger.done():
            self._purger = asyncio.create_task(self._purge_expired(), name="purge-expired")

    async def stop(self) -> None:
        """Stop polling and every delivery in flight; unfinished work resumes on the next start."""
        tasks = [*self._tasks, *([self._loop] if self._loop else [])]
        tasks += [self._purger] if self._purger else []
        for task in tasks:
            task.cancel()
        await asyncio.gather(
            *tasks, self.writes.stop(), self.previews.stop_all(), return_exceptions=True
        )
        self._loop = None
        self._purger = None
        self._tasks.clear()

    def watch(self, job: JobRecord, language: str | None = None) -> None:
        """Track a job that now has an upstream id; first poll one minimum interval later.

        `language` is the owner's when the caller knows it (else it is looked up when needed).
        """
        if not job.upstream_id:
            raise ValueError(f"job {job.id} has no upstream id to poll")
        pace = first_pace(time.monotonic(), self.intervals)
        self._watched[job.id] = _Watch(job, pace, language=language)
        self._wake.set()

    def pending_count(self, platform: str | None = None) -> int:
        """Jobs being polled (a job waiting for its owner's prompt is not: it waits for them)."""
        return sum(1 for w in self._watched.values() if platform in (None, w.job.platform))

    async def wait_idle(self, timeout: float, platform: str | None = None) -> bool:  # noqa: ASYNC109
        """Wait until no job is pending and no delivery is in flight; False on timeout."""
        deadline = time.monotonic() + timeout
        while self.pending_count(platform) or self._tasks or self.writes or self.previews:
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    # --- housekeeping ----------------------------------------------------------------------
    async def _purge_expired(self) -> None:
        """Now and every `purge_interval_s` (see `housekeeping.tidy`)."""
        while True:
            await tidy(self.services, self.delivery)
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
            times = [w.pace.next_at for w in self._watched.values() if not w.busy]
            retry_at = self.delivery.next_retry_at()
            times += [retry_at] if retry_at is not None else []
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
        intervals = self.intervals
        now = time.monotonic()
        # Jobs due within half a minimum interval ride along, so due times bunch into one set.
        horizon = now + intervals.fastest / 2
        due = [w for w in self._watched.values() if not w.busy and w.pace.next_at <= horizon]
        for watch in due:
            if past_deadline(self.services, watch.job):
                watch.busy = True
                self._spawn(self._expire(watch))
        asked = [w for w in due if not w.busy]
        batches = [asked[i : i + BATCH_SIZE] for i in range(0, len(asked), BATCH_SIZE)]
        answers = await asyncio.gather(
            *(self.services.client.mj_list([w.job.upstream_id or "" for w in b]) for b in batches),
            return_exceptions=True,
        )
        changed: list[tuple[_Watch, MjTask]] = []
        for batch, answer in zip(batches, answers, strict=True):
            for watch in batch:
                watch.pace = polled(watch.pace, now, intervals)
            if isinstance(answer, BaseException):
                if isinstance(answer, asyncio.CancelledError):
                    raise answer
                log.warning("polling %d Midjourney jobs failed: %r", len(batch), answer)
                continue
            by_id = {task.id: task for task in answer}
            for watch in batch:
                task = by_id.get(watch.job.upstream_id or "")
                if task is None:
                    continue
                watch.pace = seen(watch.pace, task.status, task.percent or 0, now, intervals)
                if changed_since(watch.job, task):
                    changed.append((watch, task))
        # Finished jobs first: their work starts first, and someone waits for the result.
        for watch, task in sorted(changed, key=lambda pair: not pair[1].is_finished):
            watch.busy = True
            self._spawn(self._apply(watch, task))
        for job_id in self.delivery.due_retries(now):
            self._spawn(self.delivery.redeliver(job_id))

    # --- applying one change ----------------------------------------------------------------
    async def _apply(self, watch: _Watch, task: MjTask) -> None:
        job = watch.job
        try:
            if task.status == "MODAL":
                self._watched.pop(job.id, None)
                await self.previews.stop(job.id)
                waiting = await self.services.store.update_job(job.id, status=JobStatus.MODAL)
                await self._offer_prompt(waiting, watch.language)
            elif task.is_finished:
                self._watched.pop(job.id, None)
                try:
                    await self.delivery.finish(job, task, watch.language)
                except Exception:
                    # Not stored as finished: poll it again rather than lose a paid result.
                    log.exception("finishing job %s failed; polling it again", job.id)
                    self.watch(job)
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
                watch.language = await self.languages.of(job)
            busy = self.admission.locked()
            shown = await self.previews.progress(job, task, channel, watch.language, busy=busy)
            if shown != job.message_id:
                changes["message_id"] = shown
        self.writes.offer(job.id, changes)
        return dataclasses.replace(job, **changes)

    async def _expire(self, watch: _Watch) -> None:
        try:
            self._watched.pop(watch.job.id, None)
            await self.delivery.expire(watch.job)
        finally:
            watch.busy = False

    async def _offer_prompt(self, job: JobRecord, language: str | None) -> None:
        """The upstream holds the job for its owner's prompt (remix): offer the ✏️ button."""
        channel = self.services.channel_for(job.platform)
        if channel is None:
            log.warning("no %s channel to ask for job %s's prompt", job.platform, job.id)
            return
        await offer_prompt(self.services, channel, job, language or await self.languages.of(job))

    # --- background work --------------------------------------------------------------------
    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(self._logged(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _logged(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("Midjourney tracker work failed")
