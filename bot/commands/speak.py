"""/speak: read text aloud as a voice message (Ogg/Opus, which both platforms play natively)."""

from __future__ import annotations

import asyncio

from bot.commands.registry import CommandSpec, Param
from bot.commands.transcribe import audio_duration
from bot.policy import Cost
from bot.replies import Audio, Reply
from bot.services import CommandContext, UserError
from bot.usage import record_usage, usage_event

VOICES = ("alloy", "echo", "fable", "onyx", "nova", "shimmer")
MAX_SPEECH_CHARS = 4096  # the speech endpoint's input limit


async def _voice(ctx: CommandContext) -> str:
    wanted = ctx.request.options.get("voice", "").strip().lower()
    if wanted:
        if wanted not in VOICES:
            raise UserError("audio.bad_voice", voice=wanted, voices=", ".join(VOICES))
        return wanted
    if ctx.prefs.voice in VOICES:
        return str(ctx.prefs.voice)
    return ctx.services.settings.tts_default_voice


async def speak_command(ctx: CommandContext) -> None:
    """Synthesize the text with the chosen voice and send it as a voice message."""
    text = ctx.request.text.strip()
    if not text:
        raise UserError("audio.speak_empty")
    if len(text) > MAX_SPEECH_CHARS:
        raise UserError("input.too_long", length=len(text), limit=MAX_SPEECH_CHARS)
    voice = await _voice(ctx)
    await ctx.check_policy(Cost("speech", len(text)))
    settings = ctx.services.settings
    async with ctx.typing():
        data = await ctx.services.client.speech(
            text, voice=voice, response_format="opus", model=settings.tts_model
        )
    event = usage_event(ctx.actor, ctx.chat, "speak", settings.tts_model, units=len(text))
    await record_usage(ctx.services, event)
    duration = await asyncio.to_thread(audio_duration, data)
    audio = Audio(data, format="opus", filename="voice.ogg", voice=True, duration_s=duration)
    await ctx.reply(Reply(parts=(audio,)))


SPEC = CommandSpec(
    "speak",
    "Read text aloud as a voice message",
    speak_command,
    params=(
        Param("text", "text", "What to say", required=True),
        Param("voice", "choice", "Voice", choices=VOICES),
    ),
)
