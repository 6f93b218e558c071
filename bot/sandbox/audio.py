"""Audio facts and synthesis: sniff an upload's container, find its duration, make TTS tones."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import soundfile as sf

SAMPLE_RATE = 48_000
TTS_RATE = 24_000


@dataclass(frozen=True, slots=True)
class AudioFacts:
    """Container name as Whisper's docs spell it, and duration in seconds if known."""

    kind: str
    duration: float | None


def sniff(data: bytes) -> str | None:
    """The container of `data` from its magic bytes, or None when it is not audio."""
    head = data[:64]
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return "m4a" if brand.startswith((b"M4A", b"M4B")) else "mp4"
    if head.startswith(b"ID3"):
        return "mp3"
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06:
        return "mp3"
    return None


def _mutagen_duration(data: bytes) -> float | None:
    import mutagen

    try:
        parsed = mutagen.File(io.BytesIO(data))
    except Exception:  # mutagen raises many unrelated types on odd input
        return None
    length = getattr(getattr(parsed, "info", None), "length", None)
    return float(length) if isinstance(length, int | float) and length > 0 else None


def _soundfile_duration(data: bytes) -> float | None:
    try:
        info = sf.info(io.BytesIO(data))
    except (RuntimeError, TypeError, ValueError):
        return None
    return float(info.duration) if info.duration > 0 else None


def inspect(data: bytes) -> AudioFacts | None:
    """Kind and duration of an upload (blocking: call it in a thread), None if not audio."""
    kind = sniff(data)
    if kind is None:
        return None
    duration = _mutagen_duration(data) or _soundfile_duration(data)
    if duration is None and kind == "webm":
        # Neither library reads Matroska; assume Opus at about 32 kbit/s.
        duration = round(len(data) / 4000, 2)
    return AudioFacts(kind, duration)


def tone_seconds(text: str, speed: float) -> float:
    """Speech length grows with the text: about 15 characters a second, 0.5–30 s."""
    return min(30.0, max(0.5, len(text) / 15.0 / max(0.25, speed)))


def tone(seconds: float, rate: int) -> np.ndarray[tuple[int], np.dtype[np.float32]]:
    """A soft 440 Hz tone with fades, as float32 samples."""
    count = max(1, int(seconds * rate))
    t = np.arange(count, dtype=np.float32) / rate
    samples = 0.2 * np.sin(2 * np.pi * 440.0 * t).astype(np.float32)
    fade = min(count // 2, rate // 50)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        samples[:fade] *= ramp
        samples[-fade:] *= ramp[::-1]
    return samples


# response_format -> (soundfile format, subtype, rate, content type)
FORMATS: dict[str, tuple[str, str | None, int, str]] = {
    "opus": ("OGG", "OPUS", SAMPLE_RATE, "audio/ogg"),
    "mp3": ("MP3", "MPEG_LAYER_III", TTS_RATE, "audio/mpeg"),
    "flac": ("FLAC", "PCM_16", TTS_RATE, "audio/flac"),
    "wav": ("WAV", "PCM_16", TTS_RATE, "audio/wav"),
}


def synthesize(seconds: float, response_format: str) -> tuple[bytes, str]:
    """Encoded audio and its content type (blocking: call it in a thread)."""
    if response_format == "pcm":
        pcm = (tone(seconds, TTS_RATE) * 32767).astype("<i2")
        return pcm.tobytes(), "audio/pcm"
    fmt, subtype, rate, content_type = FORMATS[response_format]
    out = io.BytesIO()
    sf.write(out, tone(seconds, rate), rate, format=fmt, subtype=subtype)
    return out.getvalue(), content_type
