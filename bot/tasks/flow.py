"""Steps shared by every Midjourney command: show the first progress, start tracking, the modal."""

from __future__ import annotations

import logging
from typing import Literal

from bot.channel import Actor, Channel, ChatRef
from bot.core import Services
from bot.replies import TextRequest, text_reply
from bot.tasks.jobs import send_submit
from bot.tasks.mask import centre_mask
from bot.tasks.render import progress_state
from storage.base import JobRecord, JobStatus

log = logging.getLogger(__name__)

ModalMode = Literal["inpaint", "zoom", "remix"]
PROMPT_LIMIT = 4000


async def begin_tracking(
    services: Services, channel: Channel, chat: ChatRef, job: JobRecord, language: str
) -> JobRecord:
    """Show the first progress message, remember where it is, and hand the job to the tracker."""
    if services.tracker is None:
        raise RuntimeError("no task tracker is running")
    try:
        ref = await channel.progress(None, chat, progress_state(services, language, job, 0, None))
        job = await services.store.update_job(job.id, message_id=ref.message_id)
    except Exception:
        # The job is submitted and paid for: track it even if the chat refused the first message.
        log.exception("could not show the first progress of job %s", job.id)
    services.tracker.watch(job)
    return job


def modal_default(mode: ModalMode, prompt: str) -> str:
    """The text the user starts editing: the parent's prompt (with `--zoom 2` for Custom Zoom)."""
    if mode == "zoom" and "--zoom" not in prompt:
        return f"{prompt} --zoom 2".strip()
    return prompt


async def complete_modal(
    services: Services,
    channel: Channel,
    chat: ChatRef,
    actor: Actor,
    language: str,
    job: JobRecord,
    *,
    mode: ModalMode,
    parent_image_url: str = "",
) -> bool:
    """Ask `actor` for the prompt of a job waiting in MODAL, then send /mj/submit/modal.

    False when the user cancelled (the job ends FAILURE, nothing is sent). Upstream errors
    propagate after the job is recorded as failed.
    """
    t = services.catalog.t
    upstream_id = job.upstream_id
    if upstream_id is None:
        raise ValueError("a modal needs the child task id")
    if job.status != JobStatus.MODAL:
        job = await services.store.update_job(job.id, status=JobStatus.MODAL)
    request = TextRequest(
        title=t(language, f"mj.modal.title.{mode}"),
        label=t(language, "mj.modal.label"),
        default=modal_default(mode, job.prompt)[:PROMPT_LIMIT],
        placeholder=t(language, f"mj.modal.placeholder.{mode}"),
        max_length=PROMPT_LIMIT,
    )
    answer = await channel.ask_text(chat, actor, request)
    prompt = (answer or "").strip()
    if not prompt:
        await services.store.update_job(
            job.id, status=JobStatus.FAILURE, fail_reason="cancelled", delivered=True
        )
        await channel.send(chat, text_reply(t(language, "mj.modal.cancelled")))
        return False
    # Vary (Region) needs a mask; with no drawing surface in chat, the centre of the image is it.
    mask = await centre_mask(services, parent_image_url) if mode == "inpaint" else None
    job = await services.store.update_job(job.id, prompt=prompt[:PROMPT_LIMIT])
    job, result = await send_submit(
        services,
        job,
        lambda: services.client.mj_modal(upstream_id, prompt[:PROMPT_LIMIT], mask_base64=mask),
    )
    if result.task_id != upstream_id or job.status != JobStatus.PENDING:
        job = await services.store.update_job(
            job.id, upstream_id=result.task_id, status=JobStatus.PENDING
        )
    await begin_tracking(services, channel, chat, job, language)
    return True
