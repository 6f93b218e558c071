"""`UpstreamClient`: every gateway call the bot makes, over one pooled `httpx.AsyncClient`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import AsyncIterator, Callable, Generator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
from pydantic import BaseModel, SecretStr, TypeAdapter, ValidationError

from bot.upstream.envelopes import (
    error_from_body,
    error_from_response,
    error_from_transport,
    is_html,
    make_redactor,
    may_have_been_sent,
    not_supported_html,
)
from bot.upstream.errors import (
    BadResponse,
    InvalidRequest,
    NotFound,
    NotSupported,
    RateLimited,
    ServerError,
    StreamInterrupted,
    UpstreamError,
)
from bot.upstream.models import (
    ChatChunk,
    ChatResult,
    Downloaded,
    GeneratedImage,
    MjTask,
    ModelInfo,
    SubmitResult,
    Transcript,
    Usage,
)
from bot.upstream.wire import (
    Completion,
    EmbeddingsResponse,
    ImagesResponse,
    ModelList,
    SeedResult,
    TranscriptAnswer,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

_TASK = TypeAdapter(MjTask)
_TASKS = TypeAdapter(list[MjTask])
_ACCEPTED = frozenset({1, 21, 22})
# the poll-type reads get a short read timeout whatever the long one is
_POLL_READ_TIMEOUT = 30.0
# routes without ids, parsed to URLs once: httpx re-parses a string URL on every call
_FIXED_ROUTES = (
    "/v1/models", "/v1/chat/completions", "/v1/completions", "/v1/images/generations",
    "/v1/embeddings", "/v1/audio/transcriptions", "/v1/audio/translations", "/v1/audio/speech",
    "/mj/submit/imagine", "/mj/submit/action", "/mj/submit/modal", "/mj/submit/blend",
    "/mj/submit/describe", "/mj/submit/shorten", "/mj/insight-face/swap",
    "/mj/task/list-by-condition", "/mj/task/queue",
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How reads are retried (backoff with full jitter) and how long a 429 may make us wait."""

    attempts: int = 3  # tries in all, for reads and for paid calls refused before sending
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 10.0

    def backoff(self, attempt: int) -> float:
        """Seconds to sleep after failed try number `attempt` (1-based)."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


class _BearerAuth(httpx.Auth):
    """Sends the key to the gateway's own origin only (downloads may point at a CDN)."""

    def __init__(self, key: SecretStr, origin: tuple[bytes, bytes, int | None]) -> None:
        self._key = key
        self._origin = origin

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        url = request.url
        if (url.raw_scheme, url.raw_host, url.port) == self._origin:
            request.headers["Authorization"] = f"Bearer {self._key.get_secret_value()}"
        yield request

    def __repr__(self) -> str:
        return "_BearerAuth(***)"


class UpstreamClient:
    """Async client of the gateway's /v1 (OpenAI) and /mj (Midjourney-proxy) routes."""

    def __init__(
        self,
        base_url: str,
        api_key: str | SecretStr,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 120.0,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        max_in_flight: int = 16,
    ) -> None:
        base = base_url.rstrip("/")
        if base.endswith("/v1"):  # a common slip: the /mj routes live beside /v1, not under it
            base = base[: -len("/v1")]
        self.base_url = base
        self._key = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
        self._redact = make_redactor(self._key.get_secret_value())
        self._retry = retry or RetryPolicy()
        short_read = min(read_timeout, _POLL_READ_TIMEOUT)
        self._t_poll = httpx.Timeout(short_read, connect=connect_timeout, pool=connect_timeout)
        self._t_long = httpx.Timeout(read_timeout, connect=connect_timeout, pool=connect_timeout)
        origin = httpx.URL(base)
        self._urls = {path: httpx.URL(base + path) for path in _FIXED_ROUTES}
        self._http = httpx.AsyncClient(
            base_url=base,
            auth=_BearerAuth(self._key, (origin.raw_scheme, origin.raw_host, origin.port)),
            timeout=self._t_long,
            transport=transport,
            headers={"Accept": "application/json"},
            # Idle connections kept: enough for the queued calls, the polls and the urgent
            # downloads of a burst, which otherwise open (and the gateway accepts) a new
            # connection for most requests.
            limits=httpx.Limits(
                max_connections=100, max_keepalive_connections=max(20, 3 * max_in_flight)
            ),
        )
        # httpcore's pool re-scans every connection for every queued request, so a burst of a
        # few hundred calls (200 /imagine submits at once) costs quadratic CPU inside it. Quick
        # calls queue here instead, cheaply. Streams and long generations (DALL·E, audio, whole
        # chat answers) do not: they are few, and a handful of them taking a minute each must
        # not hold every Midjourney submit and status call behind them.
        self._in_flight = asyncio.Semaphore(max_in_flight)

    @classmethod
    def from_settings(cls, settings: Any, **kw: Any) -> UpstreamClient:
        """Build from `bot.config.Settings` (upstream_base_url, _api_key, _timeouts)."""
        if not settings.upstream_base_url or settings.upstream_api_key is None:
            raise ValueError("upstream_base_url and upstream_api_key are required")
        return cls(
            settings.upstream_base_url,
            settings.upstream_api_key,
            connect_timeout=settings.upstream_connect_timeout,
            read_timeout=settings.upstream_read_timeout,
            **kw,
        )

    def __repr__(self) -> str:
        return f"UpstreamClient(base_url={self.base_url!r})"

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # ---- the one exchange loop ----------------------------------------------------------

    async def _send(
        self,
        method: str,
        url: str,
        *,
        paid: bool,
        timeouts: httpx.Timeout | None = None,
        stream: bool = False,
        follow_redirects: bool = False,
        queue: bool = True,
        **kw: Any,
    ) -> httpx.Response:
        """One call with the retry rules; returns a 2xx response (left open when `stream`).

        Reads retry transport failures, 5xx and 429. A paid call retries only when the body
        surely never left (connection refused / connect timeout) and once after a 429, which
        the gateway does not charge; everything else may have been billed, so it is raised.
        `queue=False` skips the queue of quick calls (see `__init__`).
        """
        policy = self._retry
        target = self._urls.get(url, url)
        attempt = 0
        rate_limited_once = False
        while True:
            attempt += 1
            request = self._http.build_request(
                method, target, timeout=timeouts or self._t_long, **kw
            )
            try:
                if stream or not queue:
                    response = await self._http.send(
                        request, stream=stream, follow_redirects=follow_redirects
                    )
                else:
                    async with self._in_flight:
                        response = await self._http.send(
                            request, follow_redirects=follow_redirects
                        )
                if stream and response.status_code >= 300:
                    try:
                        await response.aread()
                    finally:
                        await response.aclose()
            except httpx.TransportError as exc:
                err = error_from_transport(exc, paid=paid, redact=self._redact)
                safe = not paid or not may_have_been_sent(exc)
                if not safe or attempt >= policy.attempts:
                    raise err from exc
                delay = policy.backoff(attempt)
            else:
                if response.status_code < 300:
                    log.debug("%s %s -> %s", method, request.url.path, response.status_code)
                    return response
                err = error_from_response(response, paid=paid, redact=self._redact)
                if isinstance(err, RateLimited):
                    wait = policy.backoff(attempt) if err.retry_after is None else err.retry_after
                    again = (not rate_limited_once) if paid else attempt < policy.attempts
                    if not again or wait > policy.max_retry_after:
                        raise err
                    rate_limited_once = True
                    delay = wait
                elif isinstance(err, ServerError) and not paid and attempt < policy.attempts:
                    delay = policy.backoff(attempt)
                else:
                    raise err
            log.warning(
                "upstream %s %s failed (%s), retry %d/%d in %.2fs",
                method, request.url.path, type(err).__name__, attempt, policy.attempts - 1, delay,
            )
            await asyncio.sleep(delay)

    def _parse(
        self, response: httpx.Response, validate: Callable[[bytes], T], *, paid: bool
    ) -> T:
        """Parse a 2xx body; an HTML page there means the route is not served by this gateway."""
        if is_html(response):
            raise not_supported_html(response)
        try:
            return validate(response.content)
        except ValidationError as exc:
            raise self._bad_body(response, exc, paid=paid) from None

    def _model(self, response: httpx.Response, model: type[M], *, paid: bool) -> M:
        return self._parse(response, model.model_validate_json, paid=paid)

    def _bad_body(
        self, response: httpx.Response, exc: ValidationError, *, paid: bool
    ) -> UpstreamError:
        try:
            body = json.loads(response.content)
        except ValueError:
            return BadResponse(
                f"{response.request.url.path}: invalid JSON",
                status=response.status_code, maybe_charged=paid,
            )
        if isinstance(body, dict) and ("error" in body or "description" in body):
            # an error envelope delivered with 200 (one-api model lookups, MJ codes)
            return error_from_body(
                response.status_code, body, response.headers, paid=paid, redact=self._redact
            )
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return BadResponse(
            f"{response.request.url.path}: unexpected shape at {where!r}: {first['msg']}",
            status=response.status_code, maybe_charged=paid,
        )

    # ---- /v1 ------------------------------------------------------------------------------

    async def list_models(self) -> list[ModelInfo]:
        """Models enabled for this key (chat models and MJ billing pseudo-models alike)."""
        response = await self._send("GET", "/v1/models", paid=False, timeouts=self._t_poll)
        listing: ModelList = self._model(response, ModelList, paid=False)
        return [m for m in listing.data if m.id]

    async def stream_chat(
        self,
        model: str,
        messages: list[dict[str, Any]],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> AsyncIterator[ChatChunk]:
        """Stream a chat answer; a cut stream raises StreamInterrupted with the text so far."""
        body = _chat_body(model, messages, max_tokens, temperature)
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
        try:
            response = await self._send(
                "POST", "/v1/chat/completions", paid=True, stream=True, json=body
            )
        except InvalidRequest as exc:
            # an older gateway refusing stream_options: a 400 is not charged, so ask again plainly
            if "stream_options" not in exc.detail:
                raise
            del body["stream_options"]
            response = await self._send(
                "POST", "/v1/chat/completions", paid=True, stream=True, json=body
            )
        try:
            if "text/event-stream" not in response.headers.get("content-type", ""):
                # a gateway that answered the whole completion at once (or an error with 200)
                await response.aread()
                yield _whole_as_chunk(self._model(response, Completion, paid=True))
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
                    chunk = self._sse_chunk(data, received)
                    if chunk is None:
                        continue
                    if chunk.text:
                        received.append(chunk.text)
                    if chunk.finish_reason is not None:
                        finished = True
                    yield chunk
            except httpx.TransportError as exc:
                err = error_from_transport(exc, paid=True, redact=self._redact)
                if not received:
                    raise err from exc  # nothing to salvage: a plain timeout / broken connection
                raise StreamInterrupted("".join(received), err.detail) from exc
            if not (done or finished):
                raise StreamInterrupted("".join(received), "stream ended without [DONE]")
        finally:
            await response.aclose()

    def _sse_chunk(self, data: str, received: list[str]) -> ChatChunk | None:
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
                err = error_from_body(200, event, httpx.Headers(), paid=True, redact=self._redact)
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

    async def chat(
        self,
        model: str,
        messages: list[dict[str, Any]],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> ChatResult:
        """A whole chat answer in one response."""
        body = _chat_body(model, messages, max_tokens, temperature)
        response = await self._send(
            "POST", "/v1/chat/completions", paid=True, json=body, queue=False
        )
        return _completion_result(self._model(response, Completion, paid=True), model)

    async def complete(
        self, model: str, prompt: str, *, max_tokens: int | None = None
    ) -> ChatResult:
        """Legacy /v1/completions, for *-instruct models."""
        body: dict[str, Any] = {"model": model, "prompt": prompt}
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        response = await self._send("POST", "/v1/completions", paid=True, json=body, queue=False)
        return _completion_result(self._model(response, Completion, paid=True), model)

    async def create_image(
        self,
        prompt: str,
        *,
        model: str = "dall-e-3",
        size: str = "1024x1024",
        quality: str = "standard",
        n: int = 1,
    ) -> list[GeneratedImage]:
        """DALL·E images (URLs valid about an hour: download them at once)."""
        body = {"model": model, "prompt": prompt, "size": size, "quality": quality, "n": n}
        response = await self._send(
            "POST", "/v1/images/generations", paid=True, json=body, queue=False
        )
        images: ImagesResponse = self._model(response, ImagesResponse, paid=True)
        if not images.data:
            raise BadResponse("images: empty data", status=response.status_code, maybe_charged=True)
        return list(images.data)

    async def embed(
        self,
        inputs: list[str],
        *,
        model: str = "text-embedding-3-small",
        dimensions: int | None = None,
    ) -> list[list[float]]:
        """One vector per input, in input order."""
        body: dict[str, Any] = {"model": model, "input": inputs, "encoding_format": "float"}
        if dimensions is not None:
            body["dimensions"] = dimensions
        response = await self._send("POST", "/v1/embeddings", paid=True, json=body)
        parsed: EmbeddingsResponse = self._model(response, EmbeddingsResponse, paid=True)
        if len(parsed.data) != len(inputs):
            raise BadResponse(
                f"embeddings: {len(parsed.data)} vectors for {len(inputs)} inputs",
                status=response.status_code, maybe_charged=True,
            )
        return [e.embedding for e in sorted(parsed.data, key=lambda e: e.index)]

    async def transcribe(
        self,
        audio: bytes,
        filename: str,
        *,
        translate: bool = False,
        model: str = "whisper-1",
        language: str | None = None,
    ) -> Transcript:
        """Speech to text (Whisper); `translate` gives English whatever was spoken."""
        path = "/v1/audio/translations" if translate else "/v1/audio/transcriptions"
        form = {"model": model, "response_format": "verbose_json"}
        if language and not translate:
            form["language"] = language
        response = await self._send(
            "POST", path, paid=True, data=form, files={"file": (filename, audio)}, queue=False
        )
        ctype = response.headers.get("content-type", "")
        if "json" not in ctype and not is_html(response):
            # response_format ignored and plain text sent back: still a transcript
            return Transcript(text=response.text.strip())
        answer = self._model(response, TranscriptAnswer, paid=True)
        return Transcript(text=answer.text, language=answer.language, duration=answer.duration)

    async def speech(
        self,
        text: str,
        *,
        voice: str = "alloy",
        response_format: str = "opus",
        model: str = "tts-1",
        speed: float = 1.0,
    ) -> bytes:
        """Text to speech; the audio bytes in `response_format` (Content-Type not trusted)."""
        body = {
            "model": model, "input": text, "voice": voice,
            "response_format": response_format, "speed": speed,
        }
        response = await self._send("POST", "/v1/audio/speech", paid=True, json=body, queue=False)
        if is_html(response):
            raise not_supported_html(response)
        if not response.content:
            raise BadResponse("speech: empty body", status=response.status_code, maybe_charged=True)
        return response.content

    async def download(
        self, url: str, *, max_bytes: int = 50 * 2**20, urgent: bool = False
    ) -> Downloaded:
        """GET a file (absolute, or relative to the base URL like "/mj/image/123"), size-capped.

        `urgent` skips the queue of plain calls: a finished result someone is waiting for.
        """
        policy = self._retry
        for attempt in range(1, policy.attempts + 1):
            # Streamed (to cap the size) but short: it takes a place among the plain calls.
            async with self._in_flight if not urgent else contextlib.nullcontext():
                response = await self._send(
                    "GET", url, paid=False, stream=True, follow_redirects=True,
                    headers={"Accept": "*/*"},
                )
                try:
                    if is_html(response):
                        raise NotSupported(
                            f"download {response.url.path}: HTML page instead of a file"
                        )
                    data = await _read_capped(response, max_bytes)
                except httpx.TransportError as exc:
                    err = error_from_transport(exc, paid=False, redact=self._redact)
                    if attempt >= policy.attempts:
                        raise err from exc
                    log.warning("download body failed (%s), retry %d", type(err).__name__, attempt)
                else:
                    ctype = response.headers.get("content-type", "application/octet-stream")
                    return Downloaded(data=data, content_type=ctype.split(";")[0].strip())
                finally:
                    await response.aclose()
            await asyncio.sleep(policy.backoff(attempt))
        raise AssertionError("unreachable")

    # ---- /mj ------------------------------------------------------------------------------

    async def _submit(self, path: str, body: dict[str, Any]) -> SubmitResult:
        response = await self._send("POST", path, paid=True, json=body)
        result: SubmitResult = self._model(response, SubmitResult, paid=True)
        if result.code not in _ACCEPTED:
            raise error_from_body(
                response.status_code, response.json(), response.headers,
                paid=True, redact=self._redact,
            )
        if not result.task_id:
            raise BadResponse(
                f"{path}: accepted without a task id", status=response.status_code,
                maybe_charged=True,
            )
        return result

    async def mj_imagine(
        self, prompt: str, *, images: Sequence[str] = (), bot_type: str = "MID_JOURNEY"
    ) -> SubmitResult:
        """Start an /imagine job; `images` are data URLs used as image prompts."""
        body: dict[str, Any] = {"prompt": prompt, "botType": bot_type}
        if images:
            body["base64Array"] = list(images)
        return await self._submit("/mj/submit/imagine", body)

    async def mj_action(self, task_id: str, custom_id: str) -> SubmitResult:
        """Press a button of a finished task; check `needs_modal` on the result."""
        return await self._submit("/mj/submit/action", {"taskId": task_id, "customId": custom_id})

    async def mj_modal(
        self, task_id: str, prompt: str, *, mask_base64: str | None = None
    ) -> SubmitResult:
        """Complete a modal child (Vary Region with a PNG mask data URL, Custom Zoom)."""
        body: dict[str, Any] = {"taskId": task_id, "prompt": prompt}
        if mask_base64 is not None:
            body["maskBase64"] = mask_base64
        return await self._submit("/mj/submit/modal", body)

    async def mj_blend(self, images: Sequence[str], *, dimensions: str = "SQUARE") -> SubmitResult:
        """Blend 2-5 data-URL images."""
        body = {"base64Array": list(images), "dimensions": dimensions}
        return await self._submit("/mj/submit/blend", body)

    async def mj_describe(self, image: str) -> SubmitResult:
        """Ask for four prompts describing a data-URL image."""
        return await self._submit("/mj/submit/describe", {"base64": image})

    async def mj_shorten(self, prompt: str) -> SubmitResult:
        """Ask for shorter variants of a prompt."""
        return await self._submit("/mj/submit/shorten", {"prompt": prompt})

    async def mj_swap_face(self, source: str, target: str) -> SubmitResult:
        """Put the face of `source` onto `target` (both data URLs)."""
        body = {"sourceBase64": source, "targetBase64": target}
        return await self._submit("/mj/insight-face/swap", body)

    async def mj_fetch(self, task_id: str) -> MjTask:
        """One task's current state."""
        response = await self._send(
            "GET", f"/mj/task/{task_id}/fetch", paid=False, timeouts=self._t_poll
        )
        if response.content.strip() in (b"", b"null"):
            # upstream MJ reached directly answers an unknown id with an empty 200 / 204
            raise NotFound(f"task {task_id} not found", status=response.status_code)
        task = self._parse(response, _TASK.validate_json, paid=False)
        if not task.id:
            # an error envelope that came with 200: classify it by its own words
            raise error_from_body(
                response.status_code, response.json(), response.headers,
                paid=False, redact=self._redact,
            )
        return task

    async def mj_list(self, ids: Sequence[str]) -> list[MjTask]:
        """Many tasks in one call (list-by-condition); unknown ids are silently left out."""
        if not ids:
            return []
        response = await self._send(
            "POST", "/mj/task/list-by-condition", paid=False, timeouts=self._t_poll,
            json={"ids": list(ids)},
            queue=False,  # the tracker's one poll per interval must not wait behind a burst
        )
        return self._parse(response, _TASKS.validate_json, paid=False)

    async def mj_image_seed(self, task_id: str) -> str:
        """The seed of a finished task (upstream may take seconds to look it up)."""
        response = await self._send("GET", f"/mj/task/{task_id}/image-seed", paid=False)
        seed: SeedResult = self._model(response, SeedResult, paid=False)
        if seed.code != 1 or not seed.result:
            raise error_from_body(
                response.status_code, response.json(), response.headers,
                paid=False, redact=self._redact,
            )
        return seed.result

    async def mj_cancel(self, task_id: str) -> bool:
        """Cancel a queued/running task; False when the gateway does not route cancel."""
        try:
            response = await self._send(
                "POST", f"/mj/task/{task_id}/cancel", paid=False, timeouts=self._t_poll
            )
        except NotSupported:
            return False
        return not is_html(response)

    async def mj_queue(self) -> list[MjTask] | None:
        """Tasks queued/running upstream; None when the gateway does not route it (new-api)."""
        try:
            response = await self._send("GET", "/mj/task/queue", paid=False, timeouts=self._t_poll)
            return self._parse(response, _TASKS.validate_json, paid=False)
        except NotSupported:
            return None


def _chat_body(
    model: str, messages: list[dict[str, Any]], max_tokens: int | None, temperature: float | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": messages}
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    if temperature is not None:
        body["temperature"] = temperature
    return body


def _completion_result(parsed: Completion, model: str) -> ChatResult:
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


def _whole_as_chunk(parsed: Completion) -> ChatChunk:
    result = _completion_result(parsed, "")
    return ChatChunk(
        text=result.text, finish_reason=result.finish_reason or "stop", usage=result.usage
    )


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise BadResponse(f"download of {declared} bytes is over the {max_bytes} cap")
    parts: list[bytes] = []
    size = 0
    async for piece in response.aiter_bytes():
        size += len(piece)
        if size > max_bytes:
            raise BadResponse(f"download is over the {max_bytes} byte cap")
        parts.append(piece)
    return b"".join(parts)
