"""POST /v1/audio/transcriptions, /translations (multipart) and /speech (TTS, chunked)."""

from __future__ import annotations

import asyncio
import json

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_request import FileField

from bot.sandbox.audio import FORMATS, AudioFacts, inspect, synthesize, tone_seconds
from bot.sandbox.context import info_of
from bot.sandbox.errors import json_response, openai_error
from bot.sandbox.faults import strip_markers
from bot.sandbox.state import state_of

SUPPORTED = "['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']"
LANGUAGES = {"en": "english", "ru": "russian", "zh": "chinese", "de": "german", "fr": "french",
             "es": "spanish", "ja": "japanese", "uk": "ukrainian", "it": "italian"}
VOICES = frozenset({"alloy", "echo", "fable", "onyx", "nova", "shimmer",
                    "ash", "ballad", "coral", "sage", "verse"})
RESPONSE_FORMATS = ("json", "text", "srt", "verbose_json", "vtt")
MAX_INPUT = 4096
MAX_UPLOAD = 25 * 2**20
CHUNK = 16 * 1024


def _stamp(seconds: float, comma: bool) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{',' if comma else '.'}{millis:03d}"


def spoken_text(facts: AudioFacts, translate: bool) -> str:
    """What the sandbox "hears": the container and length of the recording."""
    noun = "Translation" if translate else "Transcript"
    if facts.duration is None:
        return f"{noun} of a {facts.kind} recording of unknown length."
    return f"{noun} of a {round(facts.duration, 1):g}-second {facts.kind} recording."


async def _transcribe(request: web.Request, translate: bool) -> web.Response:
    info = info_of(request)
    if not request.content_type.startswith("multipart/"):
        return openai_error(info.request_id, 400, "Content-Type must be multipart/form-data",
                            type_="invalid_request_error")
    if (request.content_length or 0) > MAX_UPLOAD:
        return openai_error(info.request_id, 413,
                            f"Maximum content size limit ({MAX_UPLOAD}) exceeded "
                            f"({request.content_length} bytes read)",
                            type_="server_error")
    try:
        form = await request.post()
    except (ValueError, HttpProcessingError) as exc:
        return openai_error(info.request_id, 400, f"malformed multipart body: {exc}",
                            type_="invalid_request_error")
    upload = form.get("file")
    if not isinstance(upload, FileField):
        return openai_error(info.request_id, 400, "Missing required parameter: 'file'.",
                            type_="invalid_request_error", param="file")
    data = upload.file.read()
    facts = await asyncio.to_thread(inspect, data)
    if facts is None:
        return openai_error(info.request_id, 400,
                            f"Invalid file format. Supported formats: {SUPPORTED}",
                            type_="invalid_request_error")
    response_format = str(form.get("response_format") or "json")
    if response_format not in RESPONSE_FORMATS:
        return openai_error(info.request_id, 400, f"'{response_format}' is not one of "
                            "['json', 'text', 'srt', 'verbose_json', 'vtt'] - 'response_format'",
                            type_="invalid_request_error", param="response_format")
    language = "english" if translate else LANGUAGES.get(
        str(form.get("language") or "en"), str(form.get("language") or "english"))
    text = spoken_text(facts, translate)
    duration = facts.duration or 1.0
    await state_of(request).clock.sleep(0.5 + duration * 0.1)
    if response_format == "text":
        return web.Response(text=text + "\n", content_type="text/plain")
    if response_format == "srt":
        body = f"1\n{_stamp(0, True)} --> {_stamp(duration, True)}\n{text}\n\n"
        return web.Response(text=body, content_type="text/plain")
    if response_format == "vtt":
        body = f"WEBVTT\n\n{_stamp(0, False)} --> {_stamp(duration, False)}\n{text}\n\n"
        return web.Response(text=body, content_type="text/plain")
    if response_format == "json":
        return json_response({"text": text})
    words = text.split()
    step = duration / max(1, len(words))
    verbose: dict[str, object] = {
        "task": "translate" if translate else "transcribe", "language": language,
        "duration": round(duration, 2), "text": text,
        "segments": [{"id": 0, "seek": 0, "start": 0.0, "end": round(duration, 2), "text": text,
                      "tokens": [50364 + i for i in range(len(words))], "temperature": 0.0,
                      "avg_logprob": -0.25, "compression_ratio": 1.2, "no_speech_prob": 0.01}],
    }
    if "word" in form.getall("timestamp_granularities[]", []):
        verbose["words"] = [{"word": word, "start": round(i * step, 2),
                             "end": round((i + 1) * step, 2)} for i, word in enumerate(words)]
    return json_response(verbose)


async def transcriptions(request: web.Request) -> web.Response:
    """Speech to text in the spoken language."""
    return await _transcribe(request, translate=False)


async def translations(request: web.Request) -> web.Response:
    """Speech to English text."""
    return await _transcribe(request, translate=True)


async def speech(request: web.Request) -> web.StreamResponse:
    """A tone whose length grows with the input, sent chunked in the asked format."""
    info = info_of(request)
    try:
        body = json.loads(await request.text())
    except json.JSONDecodeError as exc:
        return openai_error(info.request_id, 400, f"invalid request body: {exc}",
                            type_="invalid_request_error")
    if not isinstance(body, dict):
        body = {}
    model = body.get("model") or "tts-1"
    if model not in ("tts-1", "tts-1-hd"):
        return openai_error(info.request_id, 503, f"当前分组 default 下对于模型 {model} 无可用渠道")
    text = body.get("input")
    if not isinstance(text, str) or not text:
        return openai_error(info.request_id, 400, "Missing required parameter: 'input'.",
                            type_="invalid_request_error", param="input")
    if len(text) > MAX_INPUT:
        return openai_error(info.request_id, 400,
                            f"string too long. Expected a string with maximum length {MAX_INPUT}, "
                            f"but got a string with length {len(text)} instead.",
                            type_="invalid_request_error", param="input",
                            code="string_above_max_length")
    voice = body.get("voice")
    if not isinstance(voice, str) or voice not in VOICES:
        return openai_error(info.request_id, 400, f"Invalid value for 'voice': {voice!r}.",
                            type_="invalid_request_error", param="voice")
    response_format = body.get("response_format") or "mp3"
    if response_format not in (*FORMATS, "pcm"):
        return openai_error(info.request_id, 400,
                            f"response_format {response_format!r} is not available in the sandbox",
                            type_="invalid_request_error", param="response_format")
    speed = body.get("speed", 1.0)
    if not isinstance(speed, int | float) or not 0.25 <= speed <= 4.0:
        return openai_error(info.request_id, 400, "speed must be between 0.25 and 4.0",
                            type_="invalid_request_error", param="speed")
    seconds = tone_seconds(strip_markers(text), float(speed))
    audio, content_type = await asyncio.to_thread(synthesize, seconds, str(response_format))
    await state_of(request).clock.sleep(0.4 + seconds * 0.05)
    response = web.StreamResponse()
    response.content_type = content_type
    response.enable_chunked_encoding()
    await response.prepare(request)
    end = len(audio) // 2 if info.fault_name == "cut" else len(audio)
    for offset in range(0, end, CHUNK):
        await response.write(audio[offset:min(end, offset + CHUNK)])
    if info.fault_name == "cut":
        if request.transport is not None:
            request.transport.close()
        return response
    await response.write_eof()
    return response
