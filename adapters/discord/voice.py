"""Voice messages: an Ogg/Opus upload flagged IS_VOICE_MESSAGE, with duration and waveform.

discord.py 2.7 has no API for it (Rapptz/discord.py#10165): `File.to_dict` gains the two
attachment fields here and the upload part is typed `audio/ogg` (platforms.md section 5).
"""

from __future__ import annotations

import asyncio
import base64
import io
from typing import Any, cast

import discord
import numpy as np
import soundfile as sf

WAVEFORM_POINTS = 64


class VoiceFile(discord.File):
    """An Ogg/Opus file carrying the attachment fields a voice message needs."""

    def __init__(self, data: bytes, *, duration: float, waveform: str) -> None:
        super().__init__(io.BytesIO(data), filename="voice-message.ogg")
        self.duration = duration
        self.waveform = waveform

    def to_dict(self, index: int) -> dict[str, Any]:
        return {**super().to_dict(index), "duration_secs": self.duration,
                "waveform": self.waveform}


def _measure(data: bytes) -> tuple[float, str]:
    samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    mono = np.abs(samples).mean(axis=1)
    duration = len(mono) / float(rate) if rate else 0.0
    # At most one point per 100 ms, at most 256 points (Discord's rule), each a byte 0-255.
    points = max(1, min(WAVEFORM_POINTS, int(duration * 10) or 1))
    chunks = np.array_split(mono, points) if len(mono) else [np.zeros(1)]
    levels = np.array([float(c.max()) if len(c) else 0.0 for c in chunks])
    peak = float(levels.max()) or 1.0
    wave = bytes(round(float(v) / peak * 255) for v in levels)
    return duration, base64.b64encode(wave).decode()


async def voice_file(data: bytes, duration_hint: float | None) -> VoiceFile | None:
    """A voice-message file for Ogg/Opus bytes, or None when they cannot be read as audio."""
    try:
        duration, waveform = await asyncio.to_thread(_measure, data)
    except (RuntimeError, ValueError, sf.LibsndfileError):
        return None
    return VoiceFile(data, duration=duration_hint or duration, waveform=waveform)


async def send_voice_message(client: discord.Client, channel_id: int, voice: VoiceFile,
                             reply_to: int | None = None
                             ) -> int:
    """POST the voice message to the channel; returns its id.

    To the channel, because interaction responses used to drop the waveform (api-docs#7153).
    """
    params = discord.http.handle_message_parameters(
        file=voice, flags=discord.MessageFlags(voice=True),
        allowed_mentions=discord.AllowedMentions.none(),
        # discord.py passes this through as the JSON dict (Messageable.send converts first).
        message_reference=cast(Any, {"message_id": reply_to, "fail_if_not_exists": False})
        if reply_to is not None else discord.utils.MISSING,
    )
    with params:
        for part in params.multipart or []:
            if str(part.get("name", "")).startswith("files["):
                part["content_type"] = "audio/ogg"
        data = await client.http.send_message(channel_id, params=params)
    return int(data["id"])
