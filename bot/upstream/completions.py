"""Chat answers: request bodies, whole completions, and the SSE stream read chunk by chunk."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx

from bot.upstream.envelopes import Redact, error_from_body, error_from_transport
from bot.upstream.errors import BadResponse, StreamInterrupted
from bot.upstream.models import ChatChunk, ChatResult, Usage
from bot.upstream.wire import Completion


def chat_body(
    model: str, messages: list[dict[str, Any]], max_tokens: int | None, temperature: float | None
) -> dict[str, Any]:
    """The JSON body of /v1/chat/completions."""
    body: dict[str, Any] = {"model": model, "messages": messages}
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    if temperature is not None:
        body["temperature"] = temperature
    return body


def completion_result(parsed: Completion, model: str) -> ChatResult:
    """The first choice of a whole completion."""
    if not parsed.choices:
        raise BadResponse("completion without choices", maybe_charged=True)
    choice = parsed.choices[0]
    text = choice.message.content if choice.message is not None else choice.text
    return ChatResult(
        text=text or "",
        finish_reason=choice.finish_reason,
        usage=parsed.usage,
        model=parsed.model or model,
    )


def whole_as_chunk(parsed: Completion) -> ChatChunk:
    """A whole completion given where a stream was asked for, as its one chunk."""
    result = completion_result(parsed, "")
    return ChatChunk(
        text=result.text, finish_reason=result.finish_reason or "stop", usage=result.usage
    )


async def stream_answer(
    open_stream: Callable[[], Awaitable[httpx.Response]],
    parse_whole: Callable[[httpx.Response], Completion],
    redact: Redact,
) -> AsyncIterator[ChatChunk]:
    """The chunks of a streamed answer, opened by `open_stream`; a cut stream raises
    StreamInterrupted with the text so far. One generator, not two nested: this runs per token."""
    response = await open_stream()
    try:
        if "text/event-stream" not in response.headers.get("content-type", ""):
            # a gateway that answered the whole completion at once (or an error with 200)
            await response.aread()
            yield whole_as_chunk(parse_whole(response))
            return
        received: list[str] = []
        finished = done = False
        try:
            # Read to the end even after [DONE] (the body ends right there): leaving the loop
            # early would leave httpx's nested byte/text/line generators to the event loop's
            # finalizer, which costs a handful of tasks per answer.
            async for line in response.aiter_lines():
                if done or not line.startswith("data:"):
                    continue  # blank separators, ": keep-alive" comments, event:/id: fields
                data = line[5:]  # json.loads skips the optional space itself
                if data.endswith("[DONE]") and data.strip() == "[DONE]":
                    done = True
                    continue
                chunk = _event_chunk(data, received, redact)
                if chunk is None:
                    continue
                if chunk.text:
                    received.append(chunk.text)
                if chunk.finish_reason is not None:
                    finished = True
                yield chunk
        except httpx.TransportError as exc:
            err = error_from_transport(exc, paid=True, redact=redact)
            if not received:
                raise err from exc  # nothing to salvage: a plain timeout / broken connection
            raise StreamInterrupted("".join(received), err.detail) from exc
        if not (done or finished):
            raise StreamInterrupted("".join(received), "stream ended without [DONE]")
    finally:
        await response.aclose()


def _event_chunk(data: str, received: list[str], redact: Redact) -> ChatChunk | None:
    """The chunk in one SSE event, None when it carries nothing (role-only first delta)."""
    try:
        event = json.loads(data)
    except ValueError:
        if not received:
            raise BadResponse("invalid JSON in the event stream", maybe_charged=True) from None
        raise StreamInterrupted("".join(received), "invalid JSON in the event stream") from None
    try:  # the common shape first: this runs once per token
        choice = event["choices"][0]
        text = choice["delta"].get("content") or ""
        finish = choice.get("finish_reason") or None
    except (KeyError, IndexError, TypeError, AttributeError):
        if not isinstance(event, dict):
            return None
        if "error" in event:
            err = error_from_body(200, event, httpx.Headers(), paid=True, redact=redact)
            if received:
                raise StreamInterrupted("".join(received), err.detail) from None
            raise err from None
        text, finish = "", None
    if not isinstance(text, str):
        text = ""
    raw_usage = event.get("usage")
    usage = Usage.model_validate(raw_usage) if isinstance(raw_usage, dict) else None
    if not text and finish is None and usage is None:
        return None
    return ChatChunk(text, finish, usage)
