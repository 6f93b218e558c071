"""Steps shared by every Midjourney command: first progress, money-safe submit, tracking, modal."""

from __future__ import annotations

import contextlib
import logging
from contextlib import AbstractAsyncContextManager
from typing import Literal

from bot.channel import Actor, Channel, ChatRef, MessageRef
from bot.policy import Cost
from bot.replies import TextRequest, text_reply
from bot.services import CommandContext, Services
from bot.tasks.jobs import Submit, chat_of, send_submit
from bot.tasks.layout import Wanted, issue_rows
from bot.tasks.mask import centre_mask
from bot.tasks.render import progress_state, title
from bot.upstream import SubmitResult, UpstreamError
from bot.usage import record_usage, usage_event
from storage.base import JobRecord, JobStatus

log = logging.getLogger(__name__)

ModalMode = Literal["inpaint", "zoom", "remix"]
PROMPT_LIMIT = 4000


def admission(services: Services) -> AbstractAsyncContextManager[object]:
    """The gate a new job passes to be recorded and submitted (see TaskTracker.admission)."""
    tracker = services.tracker
    return tracker.admission if tracker is not None else contextlib.nullcontext()


async def start_job(
    services: Services,
    channel: Channel,
    chat: ChatRef,
    language: str,
    job: JobRecord,
    submit: Submit,
) -> tuple[JobRecord, SubmitResult] | None:
    """Show the job's progress message, record the job with it, submit and track it.

    See `send_submit`. The user sees the job at once; recording and submitting it waits for a
    place at the admission gate. A refused submit turns that message into the error (and None
    is returned) instead of leaving a second message behind.
    """
    ref: MessageRef | None = None
    try:
        ref = await channel.progress(None, chat, progress_state(services, language, job, 0, None))
        job.message_id = ref.message_id
    except Exception:
        # The chat refused the first message; the job still runs and the tracker retries it.
        log.exception("could not show the first progress of a %s job", job.kind)
    try:
        async with admission(services):
            job = await services.store.create_job(job)
            return await send_submit(services, job, submit, language=language)
    except UpstreamError as exc:
        if ref is None:
            raise
        log.warning(
            "%s submit refused for job %s: %s (status=%s code=%s)",
            job.kind,
            job.id,
            type(exc).__name__,
            exc.status,
            exc.code,
        )
        text = services.catalog.t(language, "error.upstream", message=exc.user_message)
        await replace_text(channel, ref, text)
        return None


async def run_job(
    ctx: CommandContext,
    job: JobRecord,
    submit: Submit,
    *,
    command: str,
    model: str = "midjourney",
) -> tuple[JobRecord, SubmitResult] | None:
    """What every Midjourney command does: ask the policy, start the job, count its usage.

    A submit that must wait for the user's text (code 21) is counted when that text is sent.
    """
    await ctx.check_policy(Cost("mj", 1), command=command)
    started = await start_job(ctx.services, ctx.channel, ctx.chat, ctx.language, job, submit)
    if started is not None and not started[1].needs_modal:
        await record_usage(ctx.services, usage_event(ctx.actor, ctx.chat, command, model, units=1))
    return started


async def replace_text(channel: Channel, ref: MessageRef, text: str) -> MessageRef:
    """Turn a message (usually the job's progress) into `text`; a new message if it is gone."""
    try:
        return await channel.edit(ref, text_reply(text))
    except Exception:
        log.info("could not edit message %s; sending the text anew", ref.message_id)
        return await channel.send(ref.chat, text_reply(text))


def modal_default(mode: ModalMode, prompt: str) -> str:
    """The text the user starts editing: the parent's prompt (with `--zoom 2` for Custom Zoom)."""
    if mode == "zoom" and "--zoom" not in prompt:
        return f"{prompt} --zoom 2".strip()
    return prompt


def modal_request(services: Services, language: str, mode: ModalMode, prompt: str) -> TextRequest:
    """The text request for a job's prompt: the title says what it is for, the prompt is the
    text the user starts editing."""
    t = services.catalog.t
    return TextRequest(
        title=t(language, f"mj.modal.title.{mode}"),
        label=t(language, "mj.modal.label"),
        default=modal_default(mode, prompt)[:PROMPT_LIMIT],
        placeholder=t(language, f"mj.modal.placeholder.{mode}"),
        max_length=PROMPT_LIMIT,
    )


async def offer_prompt(services: Services, channel: Channel, job: JobRecord, language: str) -> None:
    """A job waits in MODAL for its owner's prompt (remix): its message gets a button that opens
    the text request; the submit completes the job (commands.mj_buttons.submit_remix)."""
    t = services.catalog.t
    wanted = Wanted("remix", "", t(language, "mj.button.remix"), "✏️")
    rows = await issue_rows(services, job, [[wanted]])
    text = t(language, "mj.remix.ask", title=title(services, language, job))
    chat = chat_of(job)
    ref: MessageRef | None = None
    if job.message_id:
        try:
            # May come back as a new message (Telegram cannot turn a photo into text).
            ref = await channel.edit(MessageRef(chat, job.message_id), text_reply(text, rows))
        except Exception:
            log.info("could not edit the message of job %s; asking anew", job.id)
    if ref is None:
        ref = await channel.send(chat, text_reply(text, rows))
    if ref.message_id != job.message_id:
        await services.store.update_job(job.id, message_id=ref.message_id)


async def submit_modal(
    services: Services,
    channel: Channel,
    actor: Actor,
    language: str,
    job: JobRecord,
    text: str,
    *,
    mode: ModalMode,
    parent_image_url: str = "",
) -> bool:
    """Send /mj/submit/modal with the user's `text` for a job waiting in MODAL.

    An empty text cancels: the job ends FAILURE, nothing is sent, and False is returned.
    Upstream errors propagate after the job is recorded as failed.
    """
    upstream_id = job.upstream_id
    if upstream_id is None:
        raise ValueError("a modal needs the child task id")
    chat = chat_of(job)
    prompt = text.strip()[:PROMPT_LIMIT]
    if not prompt:
        await services.store.update_job(
            job.id, status=JobStatus.FAILURE, fail_reason="cancelled", delivered=True
        )
        cancelled = services.catalog.t(language, "mj.modal.cancelled")
        if job.message_id:
            await replace_text(channel, MessageRef(chat, job.message_id), cancelled)
        else:
            await channel.send(chat, text_reply(cancelled))
        return False
    # Vary (Region) needs a mask; with no drawing surface in chat, the centre of the image is it.
    mask = await centre_mask(services, parent_image_url) if mode == "inpaint" else None
    job = await services.store.update_job(job.id, prompt=prompt)
    await send_submit(
        services,
        job,
        lambda: services.client.mj_modal(upstream_id, prompt, mask_base64=mask),
        language=language,
    )
    # The gateway bills the modal step (mj_modal), not the action that asked for it.
    await record_usage(services, usage_event(actor, chat, "imagine", "mj_modal", units=1))
    return True
