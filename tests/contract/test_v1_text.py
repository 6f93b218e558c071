"""§2–§4: models list, chat completions (plain and SSE) and legacy completions."""

from __future__ import annotations

import io
import re
from typing import Any

import httpx
from PIL import Image

from tests.contract.conftest import sse_json
from tests.contract.test_transport import openai_envelope

MODELS_REQUIRED = {
    "gpt-4o", "gpt-4o-mini", "gpt-4-turbo", "gpt-3.5-turbo", "gpt-3.5-turbo-instruct",
    "gpt-4-vision-preview", "gpt-4-all", "gemini-pro", "gemini-pro-vision", "stable-diffusion",
    "mj-chat", "dall-e-3", "whisper-1", "tts-1", "tts-1-hd", "text-embedding-3-small",
    "text-embedding-3-large", "text-embedding-ada-002",
    "mj_imagine", "mj_describe", "mj_blend", "mj_upscale", "mj_variation", "mj_reroll", "mj_modal",
    "mj_inpaint", "mj_zoom", "mj_custom_zoom", "mj_shorten", "mj_high_variation",
    "mj_low_variation", "mj_pan", "swap_face", "mj_upload",
}
CHUNK_KEYS = {"id", "object", "created", "model", "system_fingerprint", "choices"}


def chat(text: Any, **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": text}], **extra}


async def test_models_list_shape(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/models")
    body = response.json()
    assert body["object"] == "list"
    assert body["success"] is True
    ids = {model["id"] for model in body["data"]}
    assert ids >= MODELS_REQUIRED
    for model in body["data"]:
        assert set(model) == {"id", "object", "created", "owned_by"}
        assert model["object"] == "model"
        assert isinstance(model["created"], int)
        assert isinstance(model["owned_by"], str) and model["owned_by"]
    owners = {model["id"]: model["owned_by"] for model in body["data"]}
    assert owners["mj_imagine"] == "midjourney"


async def test_retrieve_unknown_model_is_200_with_error_body(client: httpx.AsyncClient) -> None:
    known = await client.get("/v1/models/gpt-4o")
    assert known.json()["id"] == "gpt-4o"
    unknown = await client.get("/v1/models/nope")
    assert unknown.status_code == 200
    assert unknown.json()["error"]["code"] == "model_not_found"


async def test_chat_answer_echoes_last_user_message_with_context(client: httpx.AsyncClient) -> None:
    body = {"model": "gpt-4o", "messages": [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "first answer"},
        {"role": "user", "content": "second question"},
    ]}
    response = await client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200
    result = response.json()
    assert set(result) == {"id", "object", "created", "model", "system_fingerprint", "choices",
                           "usage"}
    assert result["object"] == "chat.completion"
    assert result["id"].startswith("chatcmpl-")
    assert result["model"] == "gpt-4o"
    assert isinstance(result["created"], int)
    [choice] = result["choices"]
    assert set(choice) == {"index", "message", "logprobs", "finish_reason"}
    assert choice["message"] == {"role": "assistant",
                                 "content": "Echo: second question [context: 4 messages]"}
    assert choice["finish_reason"] == "stop"
    usage = result["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["completion_tokens"] > 0 and usage["prompt_tokens"] > 0


async def test_chat_counts_image_parts(client: httpx.AsyncClient) -> None:
    parts = [{"type": "text", "text": "what is this"},
             {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
             {"type": "image_url", "image_url": {"url": "https://example.com/a.png",
                                                 "detail": "low"}}]
    response = await client.post("/v1/chat/completions",
                                 json=chat(parts, model="gpt-4-vision-preview"))
    content = response.json()["choices"][0]["message"]["content"]
    assert content == "Echo: what is this [images: 2] [context: 1 messages]"


async def test_requested_length_by_header_or_marker(client: httpx.AsyncClient) -> None:
    by_header = await client.post("/v1/chat/completions", json=chat("hi"),
                                  headers={"X-Sandbox-Tokens": "40"})
    by_marker = await client.post("/v1/chat/completions", json=chat("hi [[tokens:40]]"))
    for response in (by_header, by_marker):
        result = response.json()
        content = result["choices"][0]["message"]["content"]
        assert content.startswith("Echo: hi [context: 1 messages] ")
        assert "[[" not in content
        assert len(content.split()) == 40
        assert result["usage"]["completion_tokens"] == 40


async def test_max_tokens_truncates_with_finish_reason_length(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/chat/completions", json=chat("hi", max_tokens=5),
                                 headers={"X-Sandbox-Tokens": "30"})
    result = response.json()
    assert result["choices"][0]["finish_reason"] == "length"
    assert len(result["choices"][0]["message"]["content"].split()) == 5


async def test_stream_framing_roles_finish_and_done(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/chat/completions",
                                 json=chat("stream me please", stream=True))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Accel-Buffering"] == "no"
    chunks = sse_json(response.text)
    ids = {chunk["id"] for chunk in chunks}
    assert len(ids) == 1
    for chunk in chunks:
        assert set(chunk) == CHUNK_KEYS
        assert chunk["object"] == "chat.completion.chunk"
        [choice] = chunk["choices"]
        assert set(choice) == {"index", "delta", "logprobs", "finish_reason"}
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[-1]["choices"][0]["delta"] == {}
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    middle = chunks[1:-1]
    assert all(chunk["choices"][0]["finish_reason"] is None for chunk in middle)
    text = "".join(chunk["choices"][0]["delta"]["content"] for chunk in middle)
    assert text == "Echo: stream me please [context: 1 messages]"
    assert len(middle) > 3


async def test_stream_usage_chunk_has_empty_choices(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/chat/completions", json=chat(
        "count me", stream=True, stream_options={"include_usage": True}))
    chunks = sse_json(response.text)
    usage_chunk = chunks[-1]
    assert usage_chunk["choices"] == []
    assert set(usage_chunk["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    plain = await client.post("/v1/chat/completions", json=chat("count me", stream=True))
    assert all("usage" not in chunk for chunk in sse_json(plain.text))


async def test_stream_pacing_headers_are_honoured(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/chat/completions", json=chat("x", stream=True),
                                 headers={"X-Sandbox-Tokens": "25", "X-Sandbox-TPS": "500"})
    chunks = sse_json(response.text)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert len(text.split()) == 25


async def test_chat_validation_errors(client: httpx.AsyncClient) -> None:
    cases = [
        ({"messages": [{"role": "user", "content": "x"}]}, "model is required"),
        ({"model": "gpt-4o", "messages": []}, "field messages is required"),
        ({"model": "gpt-4o"}, "field messages is required"),
        (chat("x", max_tokens=-1), "max_tokens is invalid"),
    ]
    for body, message in cases:
        response = await client.post("/v1/chat/completions", json=body)
        assert response.status_code == 400, body
        error = openai_envelope(response)
        assert error["message"].startswith(message)
    broken = await client.post("/v1/chat/completions", content=b"{not json",
                               headers={"Content-Type": "application/json"})
    assert broken.status_code == 400
    openai_envelope(broken)


async def test_unknown_model_has_no_channel(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/chat/completions", json=chat("x", model="gpt-9"))
    assert response.status_code == 503
    assert "gpt-9" in openai_envelope(response)["message"]


async def test_gizmo_models_are_served(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/chat/completions",
                                 json=chat("hello", model="gpt-4-gizmo-g-abcdefghi"))
    assert response.status_code == 200


async def _image_links(client: httpx.AsyncClient, content: str) -> list[bytes]:
    urls = re.findall(r"!\[[^\]]*\]\((http[^)]+\.png)\)", content)
    assert urls, content
    images = []
    for url in urls:
        got = await client.get(url)
        assert got.status_code == 200
        assert got.headers["Content-Type"] == "image/png"
        Image.open(io.BytesIO(got.content)).verify()
        images.append(got.content)
    return images


async def test_stable_diffusion_answers_with_an_image_link(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/chat/completions",
                                 json=chat("a red fox", model="stable-diffusion"))
    content = response.json()["choices"][0]["message"]["content"]
    assert content.startswith("Echo: a red fox")
    await _image_links(client, content)


async def test_gpt_4_all_draws_only_when_asked(client: httpx.AsyncClient) -> None:
    drawn = await client.post("/v1/chat/completions",
                              json=chat("please draw a cat", model="gpt-4-all"))
    await _image_links(client, drawn.json()["choices"][0]["message"]["content"])
    talk = await client.post("/v1/chat/completions", json=chat("hello", model="gpt-4-all"))
    assert "![" not in talk.json()["choices"][0]["message"]["content"]


async def test_mj_chat_markdown_has_progress_image_and_button_table(
        client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/chat/completions", json=chat("a pig", model="mj-chat"))
    content = response.json()["choices"][0]["message"]["content"]
    assert re.search(r"\[0%\]\(http[^)]+\)\.\[31%\]", content)
    assert "[100%](" in content
    assert "[⏬下载](" in content
    assert "message_id" in content
    assert "| name | label | type | custom_id |" in content
    assert "MJ::JOB::upsample::1::" in content and "MJ::JOB::variation::4::" in content
    await _image_links(client, content)


async def test_stream_of_image_model_carries_the_same_markdown(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/chat/completions",
                                 json=chat("a fox", model="stable-diffusion", stream=True))
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in sse_json(response.text))
    await _image_links(client, text)


async def test_completions_plain_and_stream(client: httpx.AsyncClient) -> None:
    body = {"model": "gpt-3.5-turbo-instruct", "prompt": "Say this is a test", "max_tokens": 50}
    response = await client.post("/v1/completions", json=body)
    result = response.json()
    assert set(result) == {"id", "object", "created", "model", "choices", "usage"}
    assert result["object"] == "text_completion"
    [choice] = result["choices"]
    assert set(choice) == {"text", "index", "logprobs", "finish_reason"}
    assert choice["text"] == "Echo: Say this is a test"
    assert choice["finish_reason"] == "stop"
    streamed = await client.post("/v1/completions", json={**body, "stream": True})
    chunks = sse_json(streamed.text)
    assert all(chunk["object"] == "text_completion" for chunk in chunks)
    assert "".join(c["choices"][0]["text"] for c in chunks) == "Echo: Say this is a test"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


async def test_completions_default_max_tokens_is_16(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/completions", json={
        "model": "gpt-3.5-turbo-instruct", "prompt": "x"}, headers={"X-Sandbox-Tokens": "40"})
    choice = response.json()["choices"][0]
    assert len(choice["text"].split()) == 16
    assert choice["finish_reason"] == "length"


async def test_completions_require_prompt(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/completions", json={"model": "gpt-3.5-turbo-instruct"})
    assert response.status_code == 400
    assert openai_envelope(response)["message"].startswith("field prompt is required")


async def test_context_length_exceeded(client: httpx.AsyncClient) -> None:
    long_text = "word " * 17000
    response = await client.post("/v1/chat/completions",
                                 json=chat(long_text, model="gpt-3.5-turbo"))
    assert response.status_code == 400
    error = openai_envelope(response)
    assert error["code"] == "context_length_exceeded"
    assert error["message"].startswith("This model's maximum context length is 16385 tokens.")
    roomy = await client.post("/v1/chat/completions", json=chat(long_text, max_tokens=1))
    assert roomy.status_code == 200
    asked_too_much = await client.post("/v1/chat/completions",
                                       json=chat("hi", model="gpt-3.5-turbo", max_tokens=17000))
    assert asked_too_much.status_code == 400
