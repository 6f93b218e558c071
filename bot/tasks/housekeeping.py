"""What the store keeps that nobody can use any more: expired button tokens and text requests,
and jobs that waited for their owner's prompt past the deadline (ended, their owner told)."""

from __future__ import annotations

import asyncio
import logging
import time

from bot.services import Services
from bot.tasks.delivery import Delivery
from storage.base import JobRecord, JobStatus

log = logging.getLogger(__name__)


def past_deadline(services: Services, job: JobRecord) -> bool:
    """Whether the job has run (or waited) longer than any Midjourney job takes."""
    return time.time() - job.created_at > services.settings.mj_task_deadline_s


async def tidy(services: Services, delivery: Delivery) -> None:
    """One round of housekeeping; a failure is logged and left for the next round."""
    store = services.store
    try:
        now = time.time()
        tokens = await store.purge_expired_tokens(now)
        requests = await store.purge_expired_text_requests(now)
        if tokens or requests:
            log.info("purged %d expired button tokens, %d text requests", tokens, requests)
        for job in await store.list_jobs([JobStatus.MODAL]):
            if past_deadline(services, job):
                await delivery.expire(job)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("housekeeping failed; trying again later")
