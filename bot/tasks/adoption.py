"""Jobs whose submit's fate is unknown (stored UNKNOWN without an upstream id) found again.

Where the gateway lists the account's recent tasks (`mj_recent`), the one task that matches a
job by kind, prompt and submit time is adopted: the job takes its id and is tracked, so its
result is delivered like any other. Where the gateway cannot list them, or nothing matched by
the job's deadline, the owner is told once how to check before running it again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable

from bot.replies import text_reply
from bot.services import Services
from bot.tasks.housekeeping import past_deadline
from bot.tasks.jobs import chat_of
from bot.tasks.languages import OwnerLanguages
from bot.tasks.render import title
from bot.upstream import MjTask, UpstreamError
from storage.base import JobRecord, JobStatus

log = logging.getLogger(__name__)

# How far a task's submit time may lie from the moment we recorded the job (clocks differ,
# and a submit can wait in our queue and at the gateway).
EARLIEST_S = 60.0
LATEST_S = 600.0
# The upstream action each kind of job starts (an action job's: see `action_names`).
ACTIONS: dict[str, frozenset[str]] = {
    "imagine": frozenset({"IMAGINE"}),
    "blend": frozenset({"BLEND"}),
    "describe": frozenset({"DESCRIBE"}),
    "shorten": frozenset({"SHORTEN"}),
    "swapface": frozenset({"SWAP_FACE"}),
}
# What an action job's customId may be called in a task: the gateway's name, the upstream's,
# or the upstream's generic ACTION (upstream-api.md §9.2.1). Longer words first.
_ACTION_NAMES: tuple[tuple[str, frozenset[str]], ...] = tuple(
    (word, frozenset({*names, "ACTION"}))
    for word, names in (
        ("upsample", {"UPSCALE", "UPSCALE_HD"}),
        ("low_variation", {"LOW_VARIATION", "VARIATION"}),
        ("high_variation", {"HIGH_VARIATION", "VARIATION"}),
        ("variation", {"VARIATION"}),
        ("pan", {"PAN"}),
        ("reroll", {"REROLL"}),
        ("Outpaint", {"ZOOM", "OUTPAINT"}),
        ("CustomZoom", {"CUSTOM_ZOOM", "ZOOM", "MODAL"}),
        ("Inpaint", {"INPAINT", "MODAL"}),
    )
)


def action_names(custom_id: str) -> frozenset[str] | None:
    """The task actions a button's customId may start; None when it is not recognised."""
    parts = custom_id.split("::")
    word = parts[2] if len(parts) > 2 and parts[1] == "JOB" else parts[1] if len(parts) > 1 else ""
    for needle, names in _ACTION_NAMES:
        if needle in word:
            return names
    return None


def waiting(job: JobRecord) -> bool:
    """Whether the job is one to look for: its fate unknown, no id, its owner told that much
    (delivered) but not yet how to check."""
    unknown = job.status == JobStatus.UNKNOWN and not job.upstream_id
    return unknown and job.delivered and not job.result.unfindable_told


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def matches(job: JobRecord, task: MjTask) -> bool:
    """Whether `task` may be the one the job's submit created."""
    if task.submit_time is None:
        return False
    submitted = task.submit_time / 1000.0
    if not job.created_at - EARLIEST_S <= submitted <= job.created_at + LATEST_S:
        return False
    actions = ACTIONS.get(job.kind)
    if actions is None and job.kind == "action":
        actions = action_names(job.result.custom_id)
    if actions is not None and task.action not in actions:
        return False
    if task.action in ("IMAGINE", "DESCRIBE", "BLEND", "SHORTEN") and job.kind == "action":
        return False
    # Prompts are compared where the job's is its own (an action job's is its parent's).
    return job.kind not in ("imagine", "shorten") or _same_text(task.prompt, job.prompt)


class Adoption:
    """Looks for unknown jobs among the gateway's recent tasks (see the module docstring)."""

    def __init__(
        self,
        services: Services,
        languages: OwnerLanguages,
        watch: Callable[[JobRecord], None],
    ) -> None:
        self.services = services
        self.languages = languages
        self._watch = watch
        # A failed send's own look and a housekeeping round may overlap: one round at a time,
        # each reading the jobs afresh, so no job is adopted or told about twice.
        self._round = asyncio.Lock()

    async def look_for(self, jobs: list[JobRecord]) -> None:
        """One round over `jobs` (those not `waiting` are skipped); a failure waits for the
        next round."""
        async with self._round:
            await self._look_for(jobs)

    async def _look_for(self, jobs: list[JobRecord]) -> None:
        fresh = [await self.services.store.get_job(job.id) for job in jobs if waiting(job)]
        jobs = [job for job in fresh if job is not None and waiting(job)]
        if not jobs:
            return
        try:
            recent = await self.services.client.mj_recent()
        except UpstreamError as exc:
            log.warning("could not list recent Midjourney tasks: %r", exc)
            return
        store = self.services.store
        for job in jobs:
            found = [task for task in recent or [] if matches(job, task)]
            free = [t for t in found if await store.get_job_by_upstream(t.id) is None]
            if len(free) == 1:
                adopted = await store.adopt_task(job.id, free[0].id)
                log.info("job %s adopted upstream task %s", job.id, free[0].id)
                self._watch(adopted)
            elif recent is None or len(free) > 1 or past_deadline(self.services, job):
                await self._tell(job)

    async def _tell(self, job: JobRecord) -> None:
        """Tell the owner once how to find out (marked first: never told twice)."""
        told = dataclasses.replace(job.result, unfindable_told=True)
        job = await self.services.store.set_job_result(job.id, told)
        channel = self.services.channel_for(job.platform)
        if channel is None:
            log.warning("no %s channel to tell about unknown job %s", job.platform, job.id)
            return
        language = await self.languages.of(job)
        name = title(self.services, language, job)
        text = self.services.catalog.t(language, "mj.unknown_unfindable", title=name)
        try:
            await channel.send(chat_of(job), text_reply(text))
        except Exception:
            log.exception("could not tell the owner of unknown job %s", job.id)
