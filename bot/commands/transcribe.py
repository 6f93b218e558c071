"""/transcribe: speech to text, or to English with `translate`; voice notes land here too."""

from __future__ import annotations

import asyncio
import io
import logging

from bot.commands.registry import CommandSpec, Param
from bot.inbound import Attachment
from bot.media import MAX_AUDIO_BYTES, sniff_audio
from bot.policy import Cost
from bot.replies import File, Reply, Text
from bot.services import CommandContext, UserError
from bot.usage import record_usage, usage_event

log = logging.getLogger(__name__)

# Longer transcripts come as transcript.txt, with a shortened text in the message
# (Telegram allows 4096 characters, Discord 2000 or 4000; the adapters split longer text).
MAX_SHOWN_CHARS = 3500
SHORTENED_CHARS = 1500
_TRUTHY = {"1", "true", "yes", "on"}


def shorten(text: str, limit: int = SHORTENED_CHARS) -> str:
    """`text` cut to at most `limit` characters at a word boundary, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def transcript_reply(ctx: CommandContext, text: str) -> Reply:
    """The transcript as a message; a long one shortened, with the whole text as a file."""
    if len(text) <= MAX_SHOWN_CHARS:
        return Reply(parts=(Text(ctx.t("audio.transcript", text=text)),))
    shown = ctx.t("audio.transcript_long", text=shorten(text), length=len(text))
    return Reply(parts=(Text(shown), File(text.encode("utf-8"), "transcript.txt")))


def audio_duration(data: bytes) -> float | None:
    """Seconds of audio from the container's headers (blocking; run it in a thread)."""
    import mutagen

    try:
        parsed = mutagen.File(io.BytesIO(data))
    except Exception:  # mutagen raises many unrelated types on odd input
        return None
    length = getattr(getattr(parsed, "info", None), "length", None)
    return float(length) if isinstance(length, int | float) and length > 0 else None


def _audio(ctx: CommandContext) -> tuple[Attachment, str]:
    attachments = ctx.request.attachments
    if not attachments:
        raise UserError("audio.missing")
    # Prefer what the platform calls audio, but trust the bytes, not the label.
    ordered = sorted(attachments, key=lambda a: not a.is_audio)
    for attachment in ordered:
        extension = sniff_audio(attachment.data)
        if extension is not None:
            if len(attachment.data) > MAX_AUDIO_BYTES:
                raise UserError(
                    "audio.too_big",
                    size=round(len(attachment.data) / 2**20, 1),
                    limit=MAX_AUDIO_BYTES // 2**20,
                )
            return attachment, extension
    raise UserError("audio.not_audio")


def _wants_translation(ctx: CommandContext) -> bool:
    option = ctx.request.options.get("translate", "").strip().lower()
    # `/transcribe translate` typed as text counts too (adapters without native flags).
    return option in _TRUTHY or ctx.request.text.strip().lower() == "translate"


async def transcribe_command(ctx: CommandContext) -> None:
    """Transcribe the attached audio (translate=English translation)."""
    attachment, extension = _audio(ctx)
    translate = _wants_translation(ctx)
    seconds = await asyncio.to_thread(audio_duration, attachment.data)
    await ctx.check_policy(Cost("audio", seconds or 1.0))
    settings = ctx.services.settings
    async with ctx.typing():
        transcript = await ctx.services.client.transcribe(
            attachment.data,
            "voice.ogg" if extension == "ogg" else f"audio.{extension}",
            translate=translate,
            model=settings.transcribe_model,
        )
    seconds_heard = transcript.duration or seconds or 0.0
    event = usage_event(
        ctx.actor, ctx.chat, "transcribe", settings.transcribe_model, units=seconds_heard
    )
    await record_usage(ctx.services, event)
    text = transcript.text.strip()
    if not text:
        await ctx.say("audio.no_speech")
        return
    await ctx.reply(transcript_reply(ctx, text))


SPEC = CommandSpec(
    "transcribe",
    "Turn a voice message or audio file into text",
    transcribe_command,
    params=(
        Param("audio", "audio", "The recording", required=True),
        Param("translate", "flag", "Translate into English"),
    ),
)
