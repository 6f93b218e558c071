"""§5–§8: image generation, embeddings, transcription/translation and speech."""

from __future__ import annotations

import base64
import io
import json

import httpx
import numpy as np
import soundfile as sf
from PIL import Image

from tests.contract.test_transport import openai_envelope


async def test_dalle3_returns_a_url_to_a_real_png(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/images/generations", json={
        "model": "dall-e-3", "prompt": "a lighthouse", "size": "1792x1024"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"created", "data"}
    [item] = body["data"]
    assert set(item) == {"url", "revised_prompt"}
    assert "a lighthouse" in item["revised_prompt"]
    image = await client.get(item["url"])
    assert image.status_code == 200
    picture = Image.open(io.BytesIO(image.content))
    assert picture.format == "PNG"
    assert picture.size == (1792, 1024)
    assert picture.info["prompt"] == "a lighthouse"


async def test_every_dalle_size_comes_back_at_the_size_asked(client: httpx.AsyncClient) -> None:
    sizes = {"dall-e-3": ("1024x1024", "1792x1024", "1024x1792"),
             "dall-e-2": ("256x256", "512x512", "1024x1024")}
    for model, names in sizes.items():
        for size in names:
            response = await client.post("/v1/images/generations", json={
                "model": model, "prompt": "a fox", "size": size,
                "response_format": "b64_json"})
            [item] = response.json()["data"]
            picture = Image.open(io.BytesIO(base64.b64decode(item["b64_json"])))
            assert f"{picture.width}x{picture.height}" == size, (model, size)


async def test_dalle3_b64_json(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/images/generations", json={
        "model": "dall-e-3", "prompt": "a cat", "response_format": "b64_json"})
    [item] = response.json()["data"]
    assert "url" not in item
    png = base64.b64decode(item["b64_json"])
    assert Image.open(io.BytesIO(png)).format == "PNG"


async def test_dalle3_rejects_n_above_1_and_bad_sizes(client: httpx.AsyncClient) -> None:
    for body in ({"model": "dall-e-3", "prompt": "x", "n": 2},
                 {"model": "dall-e-3", "prompt": "x", "size": "512x512"},
                 {"model": "dall-e-3"}):
        response = await client.post("/v1/images/generations", json=body)
        assert response.status_code == 400, body
        openai_envelope(response)


async def test_embedding_lengths_and_determinism(client: httpx.AsyncClient) -> None:
    cases = [("text-embedding-3-small", None, 1536), ("text-embedding-ada-002", None, 1536),
             ("text-embedding-3-large", None, 3072), ("text-embedding-3-large", 256, 256)]
    for model, dimensions, length in cases:
        body: dict[str, object] = {"model": model, "input": ["alpha", "beta"]}
        if dimensions:
            body["dimensions"] = dimensions
        result = (await client.post("/v1/embeddings", json=body)).json()
        assert set(result) == {"object", "data", "model", "usage"}
        assert result["object"] == "list" and result["model"] == model
        assert [item["index"] for item in result["data"]] == [0, 1]
        for item in result["data"]:
            assert item["object"] == "embedding"
            assert len(item["embedding"]) == length
        assert set(result["usage"]) == {"prompt_tokens", "total_tokens"}
    again = (await client.post("/v1/embeddings", json={
        "model": "text-embedding-3-small", "input": "alpha"})).json()["data"][0]["embedding"]
    first = (await client.post("/v1/embeddings", json={
        "model": "text-embedding-3-small", "input": ["alpha"]})).json()["data"][0]["embedding"]
    assert again == first
    assert abs(float(np.linalg.norm(np.array(first))) - 1.0) < 1e-3


async def test_embedding_base64_and_dimension_errors(client: httpx.AsyncClient) -> None:
    encoded = (await client.post("/v1/embeddings", json={
        "model": "text-embedding-3-small", "input": "a", "encoding_format": "base64"})).json()
    vector = np.frombuffer(base64.b64decode(encoded["data"][0]["embedding"]), dtype=np.float32)
    assert vector.shape == (1536,)
    refused = await client.post("/v1/embeddings", json={
        "model": "text-embedding-ada-002", "input": "a", "dimensions": 8})
    assert refused.status_code == 400
    openai_envelope(refused)


def _encode(seconds: float, fmt: str, subtype: str | None = None, rate: int = 16000) -> bytes:
    samples = np.zeros(int(seconds * rate), dtype=np.float32)
    out = io.BytesIO()
    sf.write(out, samples, rate, format=fmt, subtype=subtype)
    return out.getvalue()


async def _transcribe(client: httpx.AsyncClient, data: bytes, name: str,
                      route: str = "transcriptions", **fields: str) -> httpx.Response:
    return await client.post(f"/v1/audio/{route}", files={"file": (name, data)},
                             data={"model": "whisper-1", **fields})


async def test_transcription_describes_format_and_duration(client: httpx.AsyncClient) -> None:
    cases = [
        (_encode(1.5, "OGG", "OPUS", 48000), "voice.ogg", "ogg"),
        (_encode(2.0, "WAV"), "a.wav", "wav"),
        (_encode(3.0, "FLAC"), "a.flac", "flac"),
        (_encode(2.5, "MP3", rate=44100), "a.mp3", "mp3"),
    ]
    for data, name, kind in cases:
        response = await _transcribe(client, data, name)
        assert response.status_code == 200, response.text
        text = response.json()["text"]
        assert text.startswith("Transcript of a "), text
        assert f"-second {kind} recording." in text, text
    ogg = (await _transcribe(client, cases[0][0], "v.ogg")).json()["text"]
    assert ogg == "Transcript of a 1.5-second ogg recording."


async def test_transcription_sniffs_mp4_and_webm(client: httpx.AsyncClient) -> None:
    m4a = b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom" + b"\x00" * 64
    webm = b"\x1a\x45\xdf\xa3" + b"\x00" * 4000
    assert "m4a" in (await _transcribe(client, m4a, "a.m4a")).json()["text"]
    assert "webm" in (await _transcribe(client, webm, "a.webm")).json()["text"]


async def test_transcription_response_formats(client: httpx.AsyncClient) -> None:
    audio = _encode(2.0, "WAV")
    text = await _transcribe(client, audio, "a.wav", response_format="text")
    assert text.headers["Content-Type"].startswith("text/plain")
    assert text.text.strip() == "Transcript of a 2-second wav recording."
    srt = (await _transcribe(client, audio, "a.wav", response_format="srt")).text
    assert srt.startswith("1\n00:00:00,000 --> 00:00:02,000\n")
    vtt = (await _transcribe(client, audio, "a.wav", response_format="vtt")).text
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n")
    verbose = (await _transcribe(client, audio, "a.wav", response_format="verbose_json",
                                 language="ru")).json()
    assert {"task", "language", "duration", "text", "segments"} <= set(verbose)
    assert verbose["task"] == "transcribe" and verbose["language"] == "russian"
    assert verbose["duration"] == 2.0
    segment = verbose["segments"][0]
    assert {"id", "seek", "start", "end", "text", "tokens", "temperature", "avg_logprob",
            "compression_ratio", "no_speech_prob"} <= set(segment)


async def test_translation_is_english(client: httpx.AsyncClient) -> None:
    response = await _transcribe(client, _encode(1.0, "WAV"), "a.wav", route="translations",
                                 response_format="verbose_json")
    body = response.json()
    assert body["task"] == "translate" and body["language"] == "english"
    assert body["text"] == "Translation of a 1-second wav recording."


async def test_non_audio_upload_is_rejected_like_openai(client: httpx.AsyncClient) -> None:
    response = await _transcribe(client, b"just some text, not audio", "notes.ogg")
    assert response.status_code == 400
    error = openai_envelope(response)
    assert error["message"].startswith("Invalid file format.")
    assert error["type"] == "invalid_request_error"
    missing = await client.post("/v1/audio/transcriptions", data={"model": "whisper-1"},
                                files={"other": ("x", b"1")})
    assert missing.status_code == 400


async def test_speech_is_real_ogg_opus_growing_with_input(client: httpx.AsyncClient) -> None:
    lengths = []
    for text in ("Hi.", "This sentence is a good deal longer than the first one, by far."):
        response = await client.post("/v1/audio/speech", json={
            "model": "tts-1", "input": text, "voice": "alloy", "response_format": "opus"})
        assert response.status_code == 200
        audio = response.content
        assert audio.startswith(b"OggS")
        assert b"OpusHead" in audio[:200]
        samples, rate = sf.read(io.BytesIO(audio))
        assert rate == 48000
        lengths.append(len(samples) / rate)
    assert 0 < lengths[0] < lengths[1]


async def test_speech_mp3_and_wav(client: httpx.AsyncClient) -> None:
    mp3 = await client.post("/v1/audio/speech", json={"model": "tts-1", "input": "hello",
                                                      "voice": "nova"})
    assert mp3.status_code == 200
    assert mp3.content[:3] == b"ID3" or mp3.content[0] == 0xFF
    info = sf.info(io.BytesIO(mp3.content))
    assert info.duration > 0
    wav = await client.post("/v1/audio/speech", json={"model": "tts-1-hd", "input": "hello",
                                                      "voice": "nova", "response_format": "wav"})
    assert wav.content[:4] == b"RIFF"


async def test_speech_validation(client: httpx.AsyncClient) -> None:
    too_long = await client.post("/v1/audio/speech", json={
        "model": "tts-1", "input": "x" * 4097, "voice": "alloy"})
    assert too_long.status_code == 400
    assert openai_envelope(too_long)["code"] == "string_above_max_length"
    no_voice = await client.post("/v1/audio/speech", json={"model": "tts-1", "input": "x"})
    assert no_voice.status_code == 400
    no_input = await client.post("/v1/audio/speech", json={"model": "tts-1", "voice": "alloy"})
    assert no_input.status_code == 400
    bad = await client.post("/v1/audio/speech", content=json.dumps([1]),
                            headers={"Content-Type": "application/json"})
    assert bad.status_code == 400


async def test_uploads_over_25_mb_and_broken_multipart(client: httpx.AsyncClient) -> None:
    huge = b"OggS" + b"\x00" * (25 * 2**20)
    too_big = await _transcribe(client, huge, "big.ogg")
    assert too_big.status_code == 413
    openai_envelope(too_big)
    broken = await client.post("/v1/audio/transcriptions", content=b"--x\r\nnonsense",
                               headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert broken.status_code == 400
    openai_envelope(broken)
