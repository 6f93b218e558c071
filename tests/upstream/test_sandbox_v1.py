"""Every /v1 endpoint through the client against the sandbox gateway over loopback HTTP."""

from __future__ import annotations

import base64
import io

import numpy as np
import soundfile as sf
from PIL import Image

from bot.sandbox.server import SandboxServer
from bot.upstream import ChatChunk, UpstreamClient


def ogg_opus(seconds: float = 1.0, rate: int = 48000) -> bytes:
    """A real Ogg/Opus voice note (a 440 Hz tone), like Telegram sends."""
    t = np.linspace(0, seconds, int(rate * seconds), endpoint=False)
    buf = io.BytesIO()
    sf.write(buf, 0.3 * np.sin(2 * np.pi * 440 * t), rate, format="OGG", subtype="OPUS")
    return buf.getvalue()


def png_data_url(colour: tuple[int, int, int] = (200, 30, 30), size: int = 64) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


async def test_models_include_chat_models_and_mj_pseudo_models(client: UpstreamClient) -> None:
    models = {m.id: m.owned_by for m in await client.list_models()}
    assert models["gpt-4o-mini"] == "openai"
    assert models["mj_imagine"] == "midjourney"


async def test_streamed_chat_gives_the_whole_answer_with_usage(client: UpstreamClient) -> None:
    messages = [{"role": "system", "content": "be brief"},
                {"role": "user", "content": "hello there [[tokens:40]]"}]
    chunks: list[ChatChunk] = [c async for c in client.stream_chat("gpt-4o-mini", messages)]
    text = "".join(c.text for c in chunks)
    assert text.startswith("Echo: hello there [context: 2 messages]")
    assert len(chunks) > 5  # it really arrived in pieces
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    assert any(c.finish_reason == "stop" for c in chunks)


async def test_streamed_chat_stops_at_max_tokens(client: UpstreamClient) -> None:
    messages = [{"role": "user", "content": "go on [[tokens:200]]"}]
    chunks = [c async for c in client.stream_chat("gpt-4o-mini", messages, max_tokens=10)]
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["length"]


async def test_plain_chat_and_vision_parts(client: UpstreamClient) -> None:
    messages = [{"role": "user", "content": [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": png_data_url(), "detail": "low"}},
        {"type": "image_url", "image_url": {"url": png_data_url((0, 0, 255))}},
    ]}]
    result = await client.chat("gpt-4-vision-preview", messages, temperature=0.2)
    assert result.text.startswith("Echo: what is this? [images: 2] [context: 1 messages]")
    assert result.finish_reason == "stop"
    assert result.model == "gpt-4-vision-preview"
    assert result.usage is not None and result.usage.total_tokens > 0


async def test_completions_for_instruct_models(client: UpstreamClient) -> None:
    result = await client.complete("gpt-3.5-turbo-instruct", "Say this is a test", max_tokens=50)
    assert result.text.startswith("Echo: Say this is a test")
    assert result.usage is not None


async def test_image_generation_gives_a_downloadable_picture(client: UpstreamClient) -> None:
    images = await client.create_image("a red fox in snow", size="1024x1024")
    assert len(images) == 1 and images[0].url
    picture = await client.download(images[0].url)
    assert picture.data.startswith(b"\x89PNG") and picture.content_type == "image/png"


async def test_embeddings_one_vector_per_input_with_dimensions(client: UpstreamClient) -> None:
    vectors = await client.embed(["cat", "dog", "cat"], dimensions=64)
    assert [len(v) for v in vectors] == [64, 64, 64]
    assert vectors[0] == vectors[2] != vectors[1]
    default = await client.embed(["cat"])
    assert len(default[0]) == 1536


async def test_voice_note_is_transcribed_and_translated(client: UpstreamClient) -> None:
    audio = ogg_opus(1.5)
    heard = await client.transcribe(audio, "voice.ogg", language="en")
    assert heard.text
    assert heard.duration is not None and abs(heard.duration - 1.5) < 0.2
    english = await client.transcribe(audio, "voice.ogg", translate=True)
    assert english.text


async def test_speech_comes_back_as_ogg_opus(client: UpstreamClient) -> None:
    audio = await client.speech("Hello from the sandbox", voice="nova")
    assert audio.startswith(b"OggS")
    info = sf.info(io.BytesIO(audio))
    assert info.format == "OGG" and info.duration > 0


async def test_paid_calls_are_sent_once_each(
    sandbox: SandboxServer, client: UpstreamClient
) -> None:
    await client.chat("gpt-4o-mini", [{"role": "user", "content": "hi"}])
    await client.embed(["x"])
    assert sandbox.hits["POST /v1/chat/completions"] == 1
    assert sandbox.hits["POST /v1/embeddings"] == 1
