"""Progress is cosmetic: the chat gets it first and the store the latest state a little later.

At most one write per job per longest poll interval (latest wins), so database writes never
hold up polling; a job that finishes first needs none at all, as its finish carries the final
progress.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.services import Services

log = logging.getLogger(__name__)


class ProgressWrites:
    """Progress changes not stored yet, and the tasks that store them."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._unsaved: dict[int, dict[str, Any]] = {}
        self._savers: dict[int, asyncio.Task[None]] = {}
        self._writing: set[int] = set()

    def __bool__(self) -> bool:
        return bool(self._savers)

    def offer(self, job_id: int, changes: dict[str, Any]) -> None:
        """Store `changes` (job fields) for the job later; newer offers overwrite older ones."""
        self._unsaved[job_id] = {**self._unsaved.get(job_id, {}), **changes}
        if job_id not in self._savers:
            self._savers[job_id] = asyncio.create_task(self._save(job_id))

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

    async def _save(self, job_id: int) -> None:
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
