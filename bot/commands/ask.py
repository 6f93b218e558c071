"""/ask: a chat answer streamed into one growing message, with context, vision and image links.

Decisions a user would notice:
- A picture sent to a model that cannot see is answered by a vision model instead (the default
  model if it can see, else an allowed one), with a one-line note saying so; only when no vision
  model is allowed does the bot refuse.
- A message that alone does not fit the model's prompt budget is refused with its size and the
  limit (it is never cut silently: the user would get an answer to half a question).
- A stream cut halfway keeps what arrived, with a note, and that partial answer is stored as the
  context: the next question builds on what the user saw.
- An upstream error before any text shows the error in place of the typing placeholder and
  stores nothing for the turn; earlier turns are untouched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.commands.registry import CommandSpec, Param
from bot.context import PreparedTurn, PromptTooLong, commit_turn, conversation_key, prepare_turn
from bot.context.conversation import SUMMARY_MAX_TOKENS, Summarizer
from bot.context.models import (
    is_allowed,
    is_instruct,
    is_vision,
    prompt_budget,
    reply_reserve,
    vision_fallback,
)
from bot.context.tokens import MESSAGE_OVERHEAD, count_text, message_tokens
from bot.context.window import flatten_prompt
from bot.markdown_images import fetch_linked_images, image_links
from bot.media import MAX_IMAGE_BYTES, data_url, image_attachments
from bot.policy import Cost
from bot.replies import Reply, text_reply
from bot.services import CommandContext, UserError
from bot.upstream import StreamInterrupted, UpstreamError, Usage
from bot.usage import record_usage, usage_event
from storage.base import UsageEvent

log = logging.getLogger(__name__)

MAX_IMAGES = 4


@dataclass(frozen=True, slots=True)
class Answer:
    """What the model said (possibly cut short) and the usage the gateway reported."""

    text: str
    usage: Usage | None
    cut: bool


def chosen_model(ctx: CommandContext) -> str:
    """The user's model from their prefs, if still allowed, else the configured default."""
    settings = ctx.services.settings
    prefs = ctx.prefs
    if prefs.model and is_allowed(prefs.model, settings.allowed_models):
        return prefs.model
    return settings.default_model


def _image_urls(ctx: CommandContext) -> list[str]:
    urls: list[str] = []
    for attachment, mime in image_attachments(ctx.request.attachments)[:MAX_IMAGES]:
        if len(attachment.data) > MAX_IMAGE_BYTES:
            raise UserError(
                "chat.image_too_big",
                size=round(len(attachment.data) / 2**20, 1),
                limit=MAX_IMAGE_BYTES // 2**20,
            )
        urls.append(data_url(attachment.data, mime))
    return urls


class LiveAnswer:
    """The answer's message as it grows: every piece is offered to the stream at once (the
    adapter paces and coalesces); the final text is delivered in full."""

    def __init__(self, ctx: CommandContext, header: str) -> None:
        self.header = header
        self.stream = ctx.channel.open_stream(ctx.chat, reply_to=ctx.request.message)
        self.stream.update(self._compose(ctx.t("chat.thinking")))

    def _compose(self, body: str, footer: str = "") -> str:
        return "\n\n".join(part for part in (self.header, body, footer) if part)

    def grow(self, body: str) -> None:
        """Offer the answer so far; returns at once."""
        self.stream.update(self._compose(body))

    async def finish(self, body: str, footer: str = "") -> None:
        """Deliver the complete answer (always, whatever was shown before)."""
        await self.stream.finish(text_reply(self._compose(body, footer)))

    async def fail(self, text: str) -> None:
        """Replace the placeholder with an error message."""
        await self.stream.finish(text_reply(text))


def _summarizer(ctx: CommandContext, model: str) -> Summarizer:
    async def summarize(messages: list[dict[str, object]]) -> str | None:
        tokens = sum(message_tokens(str(m["content"]), model) for m in messages)
        await ctx.check_policy(Cost("chat", tokens))
        try:
            result = await ctx.services.client.chat(model, messages, max_tokens=SUMMARY_MAX_TOKENS)
        except UpstreamError as exc:
            # Trimming without a summary still answers; the next turn tries again.
            log.warning("context summary failed: %s (status=%s)", type(exc).__name__, exc.status)
            return None
        event = _usage_event(ctx, model, result.usage, tokens, count_text(result.text, model))
        await record_usage(ctx.services, event)
        return result.text.strip() or None

    return summarize


def _usage_event(
    ctx: CommandContext, model: str, usage: Usage | None, prompt: int, completion: int
) -> UsageEvent:
    """Tokens as the gateway reported them, else as we counted them."""
    return usage_event(
        ctx.actor,
        ctx.chat,
        "ask",
        model,
        prompt_tokens=usage.prompt_tokens if usage else prompt,
        completion_tokens=usage.completion_tokens if usage else completion,
    )


async def _generate(ctx: CommandContext, turn: PreparedTurn, live: LiveAnswer) -> Answer:
    """Stream (or, for instruct models, fetch) the answer into `live`."""
    client = ctx.services.client
    if is_instruct(turn.model):
        prompt = flatten_prompt(turn.messages)
        result = await client.complete(turn.model, prompt, max_tokens=reply_reserve(turn.model))
        return Answer(result.text.strip(), result.usage, cut=False)
    received = ""
    usage: Usage | None = None
    async for chunk in client.stream_chat(turn.model, turn.messages):
        if chunk.usage is not None:
            usage = chunk.usage
        if chunk.text:
            received += chunk.text
            live.grow(received)
    return Answer(received, usage, cut=False)


async def answer_turn(ctx: CommandContext, turn: PreparedTurn, header: str) -> Answer | None:
    """Show the answer as it streams; None (with the error shown) when nothing came back."""
    live = LiveAnswer(ctx, header)
    try:
        async with ctx.typing():
            answer = await _generate(ctx, turn, live)
    except UpstreamError as exc:
        partial = exc.partial_text if isinstance(exc, StreamInterrupted) else ""
        log.warning(
            "chat answer failed for %s: %s (status=%s code=%s, %d chars received)",
            ctx.actor.key,
            type(exc).__name__,
            exc.status,
            exc.code,
            len(partial),
        )
        if not partial.strip():
            await live.fail(ctx.t("error.upstream", message=exc.user_message))
            return None
        await live.finish(partial, ctx.t("chat.cut", reason=exc.user_message))
        return Answer(partial, None, cut=True)
    if not answer.text.strip():
        await live.finish(ctx.t("chat.empty_answer"))
        return None
    await live.finish(answer.text)
    return answer


async def ask_command(ctx: CommandContext) -> None:
    """Answer a question in the context of the conversation so far."""
    settings = ctx.services.settings
    text = ctx.request.text.strip()
    image_urls = _image_urls(ctx)
    if not text and not image_urls:
        raise UserError("input.empty_prompt", command=ctx.request.command or "ask")
    model = chosen_model(ctx)
    header = ""
    if image_urls and not is_vision(model):
        vision = vision_fallback(settings.default_model, settings.allowed_models)
        if vision is None:
            raise UserError("chat.no_vision", model=model)
        header = ctx.t("chat.vision_switched", model=model, vision=vision)
        model = vision
    key = conversation_key(ctx.chat, ctx.actor, settings.context_scope)
    try:
        turn = await prepare_turn(
            ctx.services.store,
            key,
            model=model,
            system_prompt=settings.system_prompt,
            budget=prompt_budget(model, settings.context_token_budget),
            text=text or ctx.t("chat.image_default_prompt"),
            image_urls=image_urls,
            summarize=_summarizer(ctx, model) if settings.summarize_dropped_context else None,
        )
    except PromptTooLong as exc:
        raise UserError("chat.too_long", model=model, tokens=exc.tokens, limit=exc.limit) from None
    await ctx.check_policy(Cost("chat", turn.prompt_tokens))
    answer = await answer_turn(ctx, turn, header)
    if answer is None:
        return
    answer_tokens = count_text(answer.text, model)
    # The turn and the usage it cost land in one transaction.
    usage = _usage_event(ctx, model, answer.usage, turn.prompt_tokens, answer_tokens)
    await commit_turn(
        ctx.services.store, turn, answer.text, answer_tokens + MESSAGE_OVERHEAD, usage
    )
    if image_links(answer.text):
        await ctx.check_policy(Cost("none", 0))
        images = await fetch_linked_images(ctx.services.client, answer.text)
        if images:
            await ctx.reply(Reply(parts=tuple(images)))


SPEC = CommandSpec(
    "ask",
    "Ask the AI; attach a picture to ask about it",
    ask_command,
    params=(
        Param("text", "text", "Your question", required=True),
        Param("image", "image", "A picture to ask about", count=1),
    ),
)
