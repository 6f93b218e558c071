"""Progress is cosmetic: the chat gets it first and the store the latest state a little later.

At most one write per job per longest poll interval (latest wins), so database writes never
hold up polling; a job that finishes first needs none at all, as its finish carries the final
progress.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from dataclasses import dataclass

from bot.services import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProgressSeen:
    """A job's progress as last shown: the upstream's words, its preview, the message showing it
    (None: the job's message has not moved)."""

    progress: str
    image_url: str
    message_id: str | None = None


class ProgressWrites:
    """Progress changes not stored yet, and the tasks that store them."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._unsaved: dict[int, ProgressSeen] = {}
        self._savers: dict[int, asyncio.Task[None]] = {}
        self._writing: set[int] = set()

    def __bool__(self) -> bool:
        return bool(self._savers)

    def offer(self, job_id: int, seen: ProgressSeen) -> None:
        """Store `seen` for the job later; newer offers overwrite older ones (a message that
        moved stays moved)."""
        older = self._unsaved.get(job_id)
        if older is not None and seen.message_id is None:
            seen = dataclasses.replace(seen, message_id=older.message_id)
        self._unsaved[job_id] = seen
        if job_id not in self._savers:
            saver = asyncio.create_task(self._save(job_id))
            self._savers[job_id] = saver
            # A saver cancelled before it ever ran (settled or stopped in the same tick) never
            # reaches its `finally`: without this it would stay listed, and block later offers.
            saver.add_done_callback(lambda done: self._forget(job_id, done))

    async def settled(self, job_id: int) -> None:
        """Drop what is not written yet and wait for a write in flight (before the finish, so a
        late progress write cannot land after it and undo it)."""
        self._unsaved.pop(job_id, None)
        saver = self._savers.get(job_id)
        if saver is None:
            return
        if job_id not in self._writing:
            saver.cancel()  # only waiting to write: nothing left to write
        await asyncio.gather(saver, return_exceptions=True)

    async def stop(self) -> None:
        tasks = list(self._savers.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _forget(self, job_id: int, saver: asyncio.Task[None]) -> None:
        if self._savers.get(job_id) is saver:
            del self._savers[job_id]

    async def _save(self, job_id: int) -> None:
        try:
            while job_id in self._unsaved:
                await asyncio.sleep(self.services.settings.mj_poll_max_interval_s)
                seen = self._unsaved.pop(job_id, None)
                if seen is None:
                    break
                self._writing.add(job_id)
                try:
                    await self.services.store.save_progress(
                        job_id, seen.progress, seen.image_url, seen.message_id
                    )
                except Exception:
                    log.exception("progress of job %s not stored", job_id)
                finally:
                    self._writing.discard(job_id)
        finally:
            self._savers.pop(job_id, None)
