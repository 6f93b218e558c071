"""A running job's progress in its chat: the percent at once, the preview image on its own.

A preview is a download: it runs as a task of its own (the latest wins, an older one is
cancelled) so a slow download never holds up polling, and it is stopped before the result is
shown so it cannot land on top of it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import time

from bot.channel import Channel, MessageRef
from bot.replies import Progress
from bot.services import Services
from bot.tasks.jobs import chat_of
from bot.tasks.render import fetch_image, progress_state
from bot.upstream import MjTask
from storage.base import JobRecord

log = logging.getLogger(__name__)


async def show_progress(
    channel: Channel, job: JobRecord, message_id: str | None, state: Progress
) -> str:
    """Offer `state` to the job's progress message (a new one when it is gone); its id."""
    chat = chat_of(job)
    if message_id:
        try:
            ref = await channel.progress(MessageRef(chat, message_id), chat, state)
            return ref.message_id
        except Exception:
            log.warning("progress message of job %s is gone; starting a new one", job.id)
    return (await channel.progress(None, chat, state)).message_id


class Previews:
    """Preview downloads in flight, one per job at most, and when each job last had one."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._running: dict[int, asyncio.Task[None]] = {}
        self._started: dict[int, float] = {}  # job id -> when its last download started

    def __bool__(self) -> bool:
        return bool(self._running)

    async def progress(
        self, job: JobRecord, task: MjTask, channel: Channel, language: str, *, busy: bool
    ) -> str:
        """Show the task's percent now and its preview when one is due; the message's id.

        Previews are heavy and chats show edits at a human pace: one per longest poll interval,
        and none while `busy` (a burst of new jobs fills the admission gate; the percent still
        goes out), so their downloads do not compete with the submits and the results.
        """
        state = progress_state(self.services, language, job, task.percent, None)
        message_id = await show_progress(channel, job, job.message_id, state)
        now = time.monotonic()
        longest = self.services.settings.mj_poll_max_interval_s
        if task.image_url and not busy and now - self._started.get(job.id, -math.inf) >= longest:
            self._started[job.id] = now
            self.show(dataclasses.replace(job, message_id=message_id), task, channel, language)
        return message_id

    def show(self, job: JobRecord, task: MjTask, channel: Channel, language: str) -> None:
        """Download the task's preview and show it with its percent; replaces one in flight."""
        older = self._running.pop(job.id, None)
        if older is not None:
            older.cancel()  # latest wins
        preview = asyncio.create_task(self._show(job, task, channel, language))
        self._running[job.id] = preview
        preview.add_done_callback(lambda done: self._done(job.id, done))

    async def stop(self, job_id: int) -> None:
        """Cancel the job's preview in flight, so it cannot land on top of the final result."""
        self._started.pop(job_id, None)
        preview = self._running.pop(job_id, None)
        if preview is not None:
            preview.cancel()
            await asyncio.gather(preview, return_exceptions=True)

    async def stop_all(self) -> None:
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _done(self, job_id: int, task: asyncio.Task[None]) -> None:
        if self._running.get(job_id) is task:
            del self._running[job_id]

    async def _show(self, job: JobRecord, task: MjTask, channel: Channel, language: str) -> None:
        try:
            image = await fetch_image(self.services, task.image_url or "", "preview")
            state = progress_state(self.services, language, job, task.percent, image)
            await show_progress(channel, job, job.message_id, state)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.info("preview of job %s not shown: %r", job.id, exc)
