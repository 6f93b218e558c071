"""`UpstreamClient`: every gateway call the bot makes, each over its declared route."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
from pydantic import SecretStr

from bot.upstream import routes
from bot.upstream.addresses import FetchRules
from bot.upstream.capabilities import CapabilityWatch
from bot.upstream.completions import chat_body, completion_result, stream_answer
from bot.upstream.envelopes import is_html
from bot.upstream.errors import (
    BadResponse,
    DestinationRefused,
    InvalidRequest,
    ModelNotAvailable,
    NotFound,
    NotOffered,
    NotSupported,
)
from bot.upstream.exchange import NO_AUTH, Exchange
from bot.upstream.guard import Resolver
from bot.upstream.models import (
    ChatChunk,
    ChatResult,
    Downloaded,
    GeneratedImage,
    MjTask,
    ModelInfo,
    SubmitResult,
    Transcript,
)
from bot.upstream.retry import RetryPolicy
from bot.upstream.routes import Route
from bot.upstream.wire import Completion

_ACCEPTED = frozenset({1, 21, 22})
T = TypeVar("T")


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
        fetch_rules: FetchRules | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        base = base_url.rstrip("/")
        if base.endswith("/v1"):  # a common slip: the /mj routes live beside /v1, not under it
            base = base[: -len("/v1")]
        self.base_url = base
        key = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
        self._x = Exchange(
            base, key,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            transport=transport,
            retry=retry or RetryPolicy(),
            max_in_flight=max_in_flight,
            fetch_rules=fetch_rules or FetchRules(),
            resolver=resolver,
        )
        # What this gateway offers (`await client.capabilities.get()`); a route answering 404
        # corrects it at once.
        self.capabilities = CapabilityWatch(self)
        self._x.on_not_offered = self.capabilities.note_not_offered

    @classmethod
    def from_settings(cls, settings: Any, **kw: Any) -> UpstreamClient:
        """Build from `bot.config.Settings` (upstream_*, fetch_allowed_hosts)."""
        if not settings.upstream_base_url or settings.upstream_api_key is None:
            raise ValueError("upstream_base_url and upstream_api_key are required")
        kw.setdefault("fetch_rules", FetchRules.with_hosts(settings.fetch_allowed_hosts))
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
        await self._x.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _call(self, route: Route[T], id_: str = "", **request: Any) -> T:
        """Send one call over `route` and parse its answer with the route's model."""
        response = await self._x.send(route, self._x.url(route, id_), **request)
        return self._x.answer(route, response)

    # ---- /v1 ------------------------------------------------------------------------------

    async def list_models(self) -> list[ModelInfo]:
        """Models enabled for this key (chat models and MJ billing pseudo-models alike)."""
        listing = await self._call(routes.MODELS)
        return [m for m in listing.data if m.id]

    async def model_info(self, model: str) -> ModelInfo | None:
        """One model as the gateway describes it; None when it has no such model (one-api
        answers that with HTTP 200 and an error body)."""
        try:
            return await self._call(routes.MODEL, model)
        except ModelNotAvailable:
            return None

    async def probe_midjourney(self) -> bool:
        """Whether the gateway routes /mj at all: an unpaid list-by-condition with no ids.
        A 404 or an HTML page means no; any other failure is raised (not known)."""
        try:
            await self._call(routes.MJ_LIST, json={"ids": []})
        except NotOffered:
            return False
        return True

    def stream_chat(
        self,
        model: str,
        messages: list[dict[str, Any]],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> AsyncIterator[ChatChunk]:
        """Stream a chat answer; a cut stream raises StreamInterrupted with the text so far."""
        body = chat_body(model, messages, max_tokens, temperature)
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}

        async def open_stream() -> httpx.Response:
            route, url = routes.CHAT, self._x.url(routes.CHAT)
            try:
                return await self._x.send(route, url, stream=True, json=body)
            except InvalidRequest as exc:
                # an older gateway refusing stream_options: a 400 is not billed, so ask plainly
                if "stream_options" not in exc.detail:
                    raise
                del body["stream_options"]
                return await self._x.send(route, url, stream=True, json=body)

        def whole(response: httpx.Response) -> Completion:
            return self._x.answer(routes.CHAT, response)

        return stream_answer(open_stream, whole, self._x.redact)

    async def chat(
        self,
        model: str,
        messages: list[dict[str, Any]],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> ChatResult:
        """A whole chat answer in one response."""
        body = chat_body(model, messages, max_tokens, temperature)
        return completion_result(await self._call(routes.CHAT, json=body), model)

    async def complete(
        self, model: str, prompt: str, *, max_tokens: int | None = None
    ) -> ChatResult:
        """Legacy /v1/completions, for *-instruct models."""
        body: dict[str, Any] = {"model": model, "prompt": prompt}
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        return completion_result(await self._call(routes.COMPLETIONS, json=body), model)

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
        images = await self._call(routes.IMAGES, json=body)
        if not images.data:
            raise BadResponse("images: empty data", maybe_charged=True)
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
        parsed = await self._call(routes.EMBEDDINGS, json=body)
        if len(parsed.data) != len(inputs):
            raise BadResponse(
                f"embeddings: {len(parsed.data)} vectors for {len(inputs)} inputs",
                maybe_charged=True,
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
        route = routes.TRANSLATIONS if translate else routes.TRANSCRIPTIONS
        form = {"model": model, "response_format": "verbose_json"}
        if language and not translate:
            form["language"] = language
        response = await self._x.send(
            route, self._x.url(route), data=form, files={"file": (filename, audio)}
        )
        ctype = response.headers.get("content-type", "")
        if "json" not in ctype and not is_html(response):
            # response_format ignored and plain text sent back: still a transcript
            return Transcript(text=response.text.strip())
        answer = self._x.answer(route, response)
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
        audio = await self._call(routes.SPEECH, json=body)
        if not audio:
            raise BadResponse("speech: empty body", maybe_charged=True)
        return audio

    async def download(
        self, url: str, *, max_bytes: int = 50 * 2**20, urgent: bool = False
    ) -> Downloaded:
        """GET a file the gateway handed back (absolute, or relative to the base URL like
        "/mj/image/123"), size-capped; the key goes only to the gateway's origin.

        `urgent` skips the queue of plain calls: a finished result someone is waiting for.
        """
        return await self._x.fetch(
            routes.DOWNLOAD, url, _capped(max_bytes), queued=not urgent,
            headers={"Accept": "*/*"},
        )

    async def download_link(self, url: str, *, max_bytes: int = 50 * 2**20) -> Downloaded:
        """GET a file a model's answer linked to: never with the key, and only from the
        gateway's origin, an operator-allowed host or a public address (every redirect too).

        Raises DestinationRefused (nothing sent) for any other place.
        """
        if url.startswith("/") and not url.startswith("//"):
            url = self.base_url + url
        try:
            target = httpx.URL(url)
        except httpx.InvalidURL:
            raise DestinationRefused("(unparsable URL)", "not a URL") from None
        if target.scheme not in ("http", "https") or not target.host:
            raise DestinationRefused(target.host or "(no host)", "not an absolute http(s) URL")
        return await self._x.fetch(
            routes.DOWNLOAD, target, _capped(max_bytes), queued=True, auth=NO_AUTH,
            headers={"Accept": "image/*"},
        )

    # ---- /mj ------------------------------------------------------------------------------

    async def _submit(self, route: Route[SubmitResult], body: dict[str, Any]) -> SubmitResult:
        response = await self._x.send(route, self._x.url(route), json=body)
        result = self._x.answer(route, response)
        if result.code not in _ACCEPTED:
            raise self._x.error_in(response, paid=True)
        if not result.task_id:
            raise BadResponse(
                f"{route.path}: accepted without a task id", status=response.status_code,
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
        return await self._submit(routes.MJ_IMAGINE, body)

    async def mj_action(self, task_id: str, custom_id: str) -> SubmitResult:
        """Press a button of a finished task; check `needs_modal` on the result."""
        return await self._submit(routes.MJ_ACTION, {"taskId": task_id, "customId": custom_id})

    async def mj_modal(
        self, task_id: str, prompt: str, *, mask_base64: str | None = None
    ) -> SubmitResult:
        """Complete a modal child (Vary Region with a PNG mask data URL, Custom Zoom)."""
        body: dict[str, Any] = {"taskId": task_id, "prompt": prompt}
        if mask_base64 is not None:
            body["maskBase64"] = mask_base64
        return await self._submit(routes.MJ_MODAL, body)

    async def mj_blend(self, images: Sequence[str], *, dimensions: str = "SQUARE") -> SubmitResult:
        """Blend 2-5 data-URL images."""
        body = {"base64Array": list(images), "dimensions": dimensions}
        return await self._submit(routes.MJ_BLEND, body)

    async def mj_describe(self, image: str) -> SubmitResult:
        """Ask for four prompts describing a data-URL image."""
        return await self._submit(routes.MJ_DESCRIBE, {"base64": image})

    async def mj_shorten(self, prompt: str) -> SubmitResult:
        """Ask for shorter variants of a prompt."""
        return await self._submit(routes.MJ_SHORTEN, {"prompt": prompt})

    async def mj_swap_face(self, source: str, target: str) -> SubmitResult:
        """Put the face of `source` onto `target` (both data URLs)."""
        body = {"sourceBase64": source, "targetBase64": target}
        return await self._submit(routes.MJ_SWAP_FACE, body)

    async def mj_fetch(self, task_id: str) -> MjTask:
        """One task's current state."""
        route = routes.MJ_FETCH
        response = await self._x.send(route, self._x.url(route, task_id))
        if response.content.strip() in (b"", b"null"):
            # upstream MJ reached directly answers an unknown id with an empty 200 / 204
            raise NotFound(f"task {task_id} not found", status=response.status_code)
        task = self._x.answer(route, response)
        if not task.id:
            # an error envelope that came with 200: classify it by its own words
            raise self._x.error_in(response, paid=False)
        return task

    async def mj_list(self, ids: Sequence[str]) -> list[MjTask]:
        """Many tasks in one call (list-by-condition); unknown ids are silently left out."""
        if not ids:
            return []
        return await self._call(routes.MJ_LIST, json={"ids": list(ids)})

    async def mj_image_seed(self, task_id: str) -> str:
        """The seed of a finished task (upstream may take seconds to look it up)."""
        route = routes.MJ_IMAGE_SEED
        response = await self._x.send(route, self._x.url(route, task_id))
        seed = self._x.answer(route, response)
        if seed.code != 1 or not seed.result:
            raise self._x.error_in(response, paid=False)
        return seed.result

    async def mj_cancel(self, task_id: str) -> bool:
        """Cancel a queued/running task; False when the gateway does not route cancel."""
        route = routes.MJ_CANCEL
        try:
            response = await self._x.send(route, self._x.url(route, task_id))
        except NotSupported:
            return False
        return not is_html(response)

    async def mj_recent(self) -> list[MjTask] | None:
        """The account's recent tasks, newest first (GET /mj/task/list, which a Midjourney-proxy
        serves); None when the gateway does not route it (new-api)."""
        try:
            return await self._call(routes.MJ_RECENT)
        except NotSupported:
            return None

    async def mj_queue(self) -> list[MjTask] | None:
        """Tasks queued/running upstream; None when the gateway does not route it (new-api)."""
        try:
            return await self._call(routes.MJ_QUEUE)
        except NotSupported:
            return None


def _capped(max_bytes: int) -> Callable[[httpx.Response], Awaitable[Downloaded]]:
    """Reads a file's body, refusing an HTML page and anything over `max_bytes`."""

    async def consume(response: httpx.Response) -> Downloaded:
        if is_html(response):
            raise NotSupported(f"download {response.url.path}: HTML page instead of a file")
        data = await _read_capped(response, max_bytes)
        ctype = response.headers.get("content-type", "application/octet-stream")
        return Downloaded(data=data, content_type=ctype.split(";")[0].strip())

    return consume


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

