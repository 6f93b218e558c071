"""POST /v1/chat/completions and /v1/completions: validation, deterministic answers, SSE."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.sandbox.answers import Answer, chat_answer
from bot.sandbox.context import RequestInfo, info_of
from bot.sandbox.errors import json_response, openai_error
from bot.sandbox.faults import strip_markers
from bot.sandbox.models import is_known
from bot.sandbox.sse import Pacer, SseWriter
from bot.sandbox.state import state_of
from bot.sandbox.text import (
    count_tokens,
    pieces,
    prompt_tokens,
    truncate_tokens,
    with_filler,
)

FINGERPRINT = "fp_sandbox01"
BROKEN_CHUNK = '{"id":"chatcmpl-broken","object":"chat.completion.chunk","choices":[{'
# Context windows as OpenAI/Google publish them; prompt + max_tokens beyond this is a 400.
CONTEXT_WINDOWS = {"gpt-3.5-turbo": 16385, "gpt-3.5-turbo-instruct": 4096, "gemini-pro": 32760,
                   "gemini-pro-vision": 16384, "gpt-4-gizmo": 32768}
DEFAULT_WINDOW = 128000


async def _json_body(request: web.Request) -> dict[str, Any] | web.Response:
    info = info_of(request)
    try:
        body = json.loads(await request.text())
    except json.JSONDecodeError as exc:
        return openai_error(info.request_id, 400, f"invalid character in request body: {exc}",
                            code="invalid_text_request")
    if not isinstance(body, dict):
        return openai_error(info.request_id, 400, "request body must be a JSON object",
                            code="invalid_text_request")
    return body


def _check_common(info: RequestInfo, body: dict[str, Any]) -> web.Response | None:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return openai_error(info.request_id, 400, "model is required", code="invalid_text_request")
    max_tokens = body.get("max_tokens")
    if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 0):
        return openai_error(info.request_id, 400, "max_tokens is invalid",
                            code="invalid_text_request")
    if not is_known(model):
        return openai_error(info.request_id, 503, f"当前分组 default 下对于模型 {model} 无可用渠道")
    if body.get("stream_options") is not None and not body.get("stream"):
        return openai_error(
            info.request_id, 400,
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            type_="invalid_request_error", param="stream_options")
    return None


async def _text_request(request: web.Request) -> tuple[RequestInfo, dict[str, Any]] | web.Response:
    """The request's info and JSON body once both pass the checks every text route makes."""
    body = await _json_body(request)
    if isinstance(body, web.Response):
        return body
    info = info_of(request)
    problem = _check_common(info, body)
    return problem if problem is not None else (info, body)


def context_window(model: str) -> int:
    """Tokens a model takes in and gives out together."""
    if model.startswith("gpt-4-gizmo"):
        return CONTEXT_WINDOWS["gpt-4-gizmo"]
    return CONTEXT_WINDOWS.get(model, DEFAULT_WINDOW)


def _too_long(
    info: RequestInfo, model: str, prompt: int, max_tokens: object
) -> web.Response | None:
    window = context_window(model)
    asked = prompt + (max_tokens if isinstance(max_tokens, int) else 0)
    if asked <= window:
        return None
    return openai_error(
        info.request_id, 400,
        f"This model's maximum context length is {window} tokens. However, you requested "
        f"{asked} tokens ({prompt} in the messages, {asked - prompt} in the completion). "
        "Please reduce the length of the messages or completion.",
        type_="invalid_request_error", param="messages", code="context_length_exceeded")


async def chat_completions(request: web.Request) -> web.StreamResponse:
    """Chat, streamed (§3.3) or not (§3.2)."""
    checked = await _text_request(request)
    if isinstance(checked, web.Response):
        return checked
    info, body = checked
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return openai_error(info.request_id, 400, "field messages is required",
                            code="invalid_text_request")
    too_long = _too_long(info, str(body["model"]), prompt_tokens(messages), body.get("max_tokens"))
    if too_long is not None:
        return too_long
    answer = chat_answer(request, body, messages)
    base = {"id": f"chatcmpl-{uuid.uuid4().hex[:29]}", "created": int(time.time()),
            "model": body["model"], "system_fingerprint": FINGERPRINT}
    pacer = Pacer(state_of(request).clock, info.tps)
    if not body.get("stream"):
        await pacer.whole(count_tokens(answer.text))
        return json_response({
            **base, "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.text},
                         "logprobs": None, "finish_reason": answer.finish_reason}],
            "usage": answer.usage,
        })

    chunk = {**base, "object": "chat.completion.chunk"}

    def delta(content: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**chunk, "choices": [{"index": 0, "delta": content, "logprobs": None,
                                      "finish_reason": finish}]}

    options = body.get("stream_options")
    include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
    return await _stream(request, pacer, pieces(answer.text),
                         first=delta({"role": "assistant", "content": ""}),
                         piece=lambda text: delta({"content": text}),
                         last=delta({}, answer.finish_reason),
                         usage={**chunk, "choices": [], "usage": answer.usage}
                         if include_usage else None)


async def _stream(request: web.Request, pacer: Pacer, parts: list[str], *,
                  first: dict[str, Any] | None, piece: Callable[[str], dict[str, Any]],
                  last: dict[str, Any],
                  usage: dict[str, Any] | None) -> web.StreamResponse:
    """Write the chunks, honouring the `cut` and `badjson` faults halfway through."""
    fault = info_of(request).fault_name
    writer = SseWriter(request)
    await writer.open()
    if first is not None:
        await writer.event(first)
    half = max(1, len(parts) // 2)
    for index, text in enumerate(parts):
        if index == half and fault == "cut":
            await pacer.flush()
            return writer.cut()
        if index == half and fault == "badjson":
            await writer.raw(BROKEN_CHUNK)
        await pacer.token()
        await writer.event(piece(text))
    if fault == "cut":
        return writer.cut()
    await pacer.flush()
    await writer.event(last)
    if usage is not None:
        await writer.event(usage)
    return await writer.done()


async def completions(request: web.Request) -> web.StreamResponse:
    """Legacy completions for *-instruct models: `Echo: <prompt>` then filler, max_tokens 16."""
    checked = await _text_request(request)
    if isinstance(checked, web.Response):
        return checked
    info, body = checked
    prompt = body.get("prompt")
    if isinstance(prompt, list):
        prompt = next((item for item in prompt if isinstance(item, str)), "")
    if not isinstance(prompt, str) or not prompt:
        return openai_error(info.request_id, 400, "field prompt is required",
                            code="invalid_text_request")
    max_tokens = body.get("max_tokens")
    too_long = _too_long(info, str(body["model"]), count_tokens(prompt), max_tokens or 16)
    if too_long is not None:
        return too_long
    text = with_filler(f"Echo: {strip_markers(prompt)}", info.tokens)
    text, cut = truncate_tokens(text, 16 if max_tokens is None else max_tokens)
    answer = Answer(text, "length" if cut else "stop", count_tokens(strip_markers(prompt)))
    base = {"id": f"cmpl-{uuid.uuid4().hex[:24]}", "object": "text_completion",
            "created": int(time.time()), "model": body["model"]}
    pacer = Pacer(state_of(request).clock, info.tps)

    def choice(text: str, finish: str | None) -> dict[str, Any]:
        return {**base, "choices": [{"text": text, "index": 0, "logprobs": None,
                                     "finish_reason": finish}]}

    if not body.get("stream"):
        await pacer.whole(count_tokens(answer.text))
        return json_response(choice(answer.text, answer.finish_reason) | {"usage": answer.usage})
    options = body.get("stream_options")
    include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
    return await _stream(request, pacer, pieces(answer.text), first=None,
                         piece=lambda text: choice(text, None),
                         last=choice("", answer.finish_reason),
                         usage={**base, "choices": [], "usage": answer.usage}
                         if include_usage else None)
