"""Turn any failed exchange into one `UpstreamError`: the three envelopes, HTML-200, transport.

Envelopes (upstream-api.md §1): `/v1` `{"error": {message, type, param, code}}`; gateway `/mj`
`{"description", "type", "code": 4|5}`; upstream MJ `SubmitResultVO` `{code, description, ...}`;
plus the image proxy's and Ollama's `{"error": "<text>"}`, vLLM's `{"object": "error",
"message", "code"}` and the `{"detail": "Not Found"}` of FastAPI servers (LiteLLM).

A 404 means one of three things: a task (or file) that does not exist, which the body says
(task_not_found, MJ code 3); a model the gateway does not serve (model_not_found, or words to
that effect); or, with neither, the route itself missing at this gateway: `NotOffered`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import httpx

from bot.upstream.errors import (
    AuthenticationError,
    BadResponse,
    BannedPrompt,
    ConnectionFailed,
    InvalidRequest,
    MjSubmitRejected,
    ModelNotAvailable,
    NotFound,
    NotOffered,
    NotSupported,
    PermissionDenied,
    QueueFull,
    QuotaExceeded,
    RateLimited,
    ServerError,
    TaskNotReady,
    UpstreamError,
    UpstreamTimeout,
)

Redact = Callable[[str], str]

QUOTA_CODES = frozenset(
    {"insufficient_user_quota", "quota_not_enough", "pre_consume_token_quota_failed"}
)
_NOT_FOUND_CODES = frozenset({"task_not_found", "task_no_found", "midjourney_task_not_found"})
_MODEL_MISSING_CODES = frozenset({"model_not_found"})
# OpenAI / vLLM "The model `x` does not exist", Ollama "model 'x' not found", LiteLLM "Invalid
# model name passed in model=x"
_MODEL_MISSING_WORDS = re.compile(
    r"\binvalid model name\b|\b(unknown|no such) model\b"
    r"|\bmodel\b[^.\n]{0,100}?\b(does not exist|not found|is not available)\b",
    re.IGNORECASE,
)
_NOT_READY_CODES = frozenset({"task_status_not_success"})
# upstream MJ's "related task in a wrong state" (image-seed / action before SUCCESS)
_NOT_READY_WORDS = ("关联任务状态错误",)
# A gateway description made of one snake_case word (maybe with ":<arg>") is a machine code.
_WORD_CODE = re.compile(r"^([a-z][a-z0-9_]*[a-z0-9])(?::.*)?$")
_REQUEST_ID = re.compile(r"\s*\(request id: [^)]*\)\s*$")
_KEYLIKE = re.compile(r"sk-[A-Za-z0-9_\-]{6,}")
_MAX_DETAIL = 300


def make_redactor(secret: str) -> Redact:
    """A function scrubbing the key (and anything key-shaped) out of text bound for logs."""

    def redact(text: str) -> str:
        if secret:
            text = text.replace(secret, "***")
        return _KEYLIKE.sub("sk-***", text)

    return redact


def is_html(response: httpx.Response) -> bool:
    """The gateway's dashboard page: what new-api answers (200) for a route it does not serve."""
    return "text/html" in response.headers.get("content-type", "").lower()


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """Retry-After in seconds from headers (delta-seconds form only)."""
    raw = headers.get("retry-after")
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        return None


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"


def _envelope(body: Any) -> tuple[str, str | None, int | None]:
    """(message, machine code, MJ numeric code) from whichever envelope `body` is."""
    if not isinstance(body, dict):
        return "", None, None
    err = body.get("error")
    if isinstance(err, dict):
        message = _REQUEST_ID.sub("", str(err.get("message") or ""))
        code = err.get("code")
        return message, (str(code) if code not in (None, "") else None), None
    if isinstance(err, str):
        return err, err if _WORD_CODE.match(err) else None, None
    if "message" in body and "description" not in body:  # vLLM's {"object": "error", ...}
        code = body.get("code")
        return str(body.get("message") or ""), (str(code) if code not in (None, "") else None), None
    if "description" in body or "code" in body:
        description = str(body.get("description") or "").strip()
        try:
            mj_code: int | None = int(body.get("code"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            mj_code = None
        word = _WORD_CODE.match(description)
        return description, word.group(1) if word else None, mj_code
    detail = body.get("detail")
    if isinstance(detail, str):  # FastAPI's {"detail": "Not Found"}
        return detail, None, None
    return "", None, None


def _mj_rejection(
    mj_code: int, description: str, properties: dict[str, Any], status: int | None
) -> UpstreamError | None:
    if mj_code == 24:
        return BannedPrompt(mj_code, description, properties=properties, status=status)
    if mj_code in (23, 9):
        return QueueFull(mj_code, description, properties=properties, status=status)
    return None


def error_from_body(
    status: int,
    body: Any,
    headers: httpx.Headers,
    *,
    paid: bool,
    redact: Redact,
    route_404: bool = True,
) -> UpstreamError:
    """Classify a decoded error answer; `status` may be 200 (MJ codes, one-api model errors).

    `route_404`: a bare 404 means the route is missing (False for file downloads, where it
    means the file is).
    """
    message, code, mj_code = _envelope(body)
    said = _clip(redact(message)) or None
    detail = said or f"HTTP {status}"
    kw: dict[str, Any] = {"status": status, "code": code, "gateway_message": said}
    if code in QUOTA_CODES:
        return QuotaExceeded(detail, **kw)
    if mj_code is not None and mj_code not in (1, 21, 22):
        properties = body.get("properties") if isinstance(body, dict) else None
        rejected = _mj_rejection(mj_code, detail, properties or {}, status)
        if rejected is not None:
            rejected.gateway_message = said
            return rejected
        kw["code"] = code or str(mj_code)
    if status == 401:
        return AuthenticationError(detail, **kw)
    if status == 403:
        return PermissionDenied(detail, **kw)
    if status == 429:
        return RateLimited(detail, retry_after=retry_after_seconds(headers), **kw)
    if code in _MODEL_MISSING_CODES or (
        status in (400, 404) and _MODEL_MISSING_WORDS.search(message)
    ):
        return ModelNotAvailable(detail, **kw)
    if code in _NOT_FOUND_CODES or mj_code == 3:
        return NotFound(detail, **kw)
    if status == 404:
        return NotOffered(detail, **kw) if route_404 else NotFound(detail, **kw)
    if code in _NOT_READY_CODES or any(w in message for w in _NOT_READY_WORDS):
        return TaskNotReady(detail, **kw)
    if status == 501 or code == "api_not_implemented":
        return NotSupported(detail, **kw)
    if status >= 500 or mj_code == 5:
        # a proxy that gave up waiting (502/504) may have let the request through
        return ServerError(detail, maybe_charged=paid and status in (502, 504), **kw)
    if status >= 400 or mj_code == 4:
        return InvalidRequest(detail, **kw)
    if mj_code is not None:
        return MjSubmitRejected(mj_code, detail, status=status, gateway_message=said)
    return BadResponse(f"unexpected answer: {detail}", maybe_charged=paid, **kw)


def error_from_response(
    response: httpx.Response, *, paid: bool, redact: Redact, route_404: bool = True
) -> UpstreamError:
    """Classify a non-2xx answer (body already read), whatever its envelope or content type."""
    status = response.status_code
    if is_html(response):
        # a proxy's error page (502 Bad Gateway) or a dashboard for an unrouted path
        body: Any = {"error": f"HTML page (HTTP {status})"}
    else:
        try:
            body = json.loads(response.content) if response.content else None
        except ValueError:
            body = {"error": _clip(response.text)}
    return error_from_body(
        status, body, response.headers, paid=paid, redact=redact, route_404=route_404
    )


def error_from_transport(exc: httpx.TransportError, *, paid: bool, redact: Redact) -> UpstreamError:
    """Map an httpx transport failure; `maybe_charged` when the body may have reached the server."""
    sent = may_have_been_sent(exc)
    detail = _clip(redact(f"{type(exc).__name__}: {exc}"))
    charged = paid and sent
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamTimeout(detail, maybe_charged=charged)
    return ConnectionFailed(detail, maybe_charged=charged)


def may_have_been_sent(exc: httpx.TransportError) -> bool:
    """False only when the request surely never left: no connection was made."""
    return not isinstance(
        exc,
        httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout | httpx.UnsupportedProtocol
        | httpx.ProxyError,
    )


def not_supported_html(response: httpx.Response, family: str | None = None) -> NotOffered:
    """The error for an HTML page where JSON was expected (route not served by this gateway)."""
    return NotOffered(
        f"{response.request.method} {response.request.url.path} answered an HTML page",
        status=response.status_code, family=family,
    )
