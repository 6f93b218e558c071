"""Every failed exchange becomes the right error, as an operator reads it in the log and a user
in the chat: its kind, whether the call may have been charged, the gateway's reason, and never
a key."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from bot.upstream.envelopes import (
    error_from_body,
    error_from_response,
    error_from_transport,
    is_html,
    make_redactor,
    may_have_been_sent,
    not_supported_html,
    retry_after_seconds,
)
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

KEY = "sk-live-0123456789abcdefSECRET"
redact = make_redactor(KEY)
NO_HEADERS = httpx.Headers()


def classify(status: int, body: Any, *, paid: bool = False,
             headers: httpx.Headers = NO_HEADERS) -> UpstreamError:
    return error_from_body(status, body, headers, paid=paid, redact=redact)


def v1(message: str, code: str = "", type_: str = "new_api_error") -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": "", "code": code}}


def mj(code: int, description: str, **properties: str) -> dict[str, Any]:
    return {"code": code, "description": description, "result": "", "properties": properties}


def response(status: int, content: bytes, content_type: str = "application/json",
             path: str = "/v1/chat/completions") -> httpx.Response:
    request = httpx.Request("POST", f"http://gw.test{path}")
    return httpx.Response(status, content=content, headers={"content-type": content_type},
                          request=request)


# --- maybe charged ---------------------------------------------------------------------------

def test_an_unexpected_answer_to_a_paid_call_may_have_been_charged() -> None:
    paid = classify(200, {"something": "else"}, paid=True)
    assert type(paid) is BadResponse and paid.maybe_charged and paid.status == 200
    assert "maybe_charged" in str(paid)
    free = classify(200, {"something": "else"}, paid=False)
    assert type(free) is BadResponse and not free.maybe_charged
    assert str(free).startswith("unexpected answer: HTTP 200")


@pytest.mark.parametrize("status", [502, 504])
def test_a_proxy_that_gave_up_waiting_may_have_let_a_paid_call_through(status: int) -> None:
    error = classify(status, v1("upstream timed out"), paid=True)
    assert type(error) is ServerError and error.maybe_charged and error.retryable
    assert not classify(status, v1("upstream timed out"), paid=False).maybe_charged


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_that_answered_was_not_charged(status: int) -> None:
    error = classify(status, v1("do request failed"), paid=True)
    assert type(error) is ServerError and not error.maybe_charged


def test_only_a_call_that_may_have_reached_the_server_may_have_been_charged() -> None:
    request = httpx.Request("POST", "http://gw.test/v1/chat/completions")
    read = error_from_transport(httpx.ReadTimeout("slow", request=request), paid=True,
                                redact=redact)
    assert type(read) is UpstreamTimeout and read.maybe_charged
    assert read.detail == "ReadTimeout: slow"
    connect = error_from_transport(httpx.ConnectTimeout("slow", request=request), paid=True,
                                   redact=redact)
    assert type(connect) is UpstreamTimeout and not connect.maybe_charged
    dropped = error_from_transport(httpx.RemoteProtocolError("gone", request=request), paid=True,
                                   redact=redact)
    assert type(dropped) is ConnectionFailed and dropped.maybe_charged
    refused = error_from_transport(httpx.ConnectError("refused", request=request), paid=True,
                                   redact=redact)
    assert type(refused) is ConnectionFailed and not refused.maybe_charged
    unpaid = error_from_transport(httpx.ReadError("reset", request=request), paid=False,
                                  redact=redact)
    assert not unpaid.maybe_charged
    assert str(refused).startswith("ConnectError: refused")


@pytest.mark.parametrize(
    ("exc", "sent"),
    [
        (httpx.ConnectError("x"), False),
        (httpx.ConnectTimeout("x"), False),
        (httpx.PoolTimeout("x"), False),
        (httpx.UnsupportedProtocol("x"), False),
        (httpx.ProxyError("x"), False),
        (httpx.ReadTimeout("x"), True),
        (httpx.WriteTimeout("x"), True),
        (httpx.WriteError("x"), True),
        (httpx.ReadError("x"), True),
        (httpx.RemoteProtocolError("x"), True),
    ],
)
def test_what_counts_as_possibly_sent(exc: httpx.TransportError, sent: bool) -> None:
    assert may_have_been_sent(exc) is sent


# --- the reason shown to the user --------------------------------------------------------------

def test_a_banned_prompt_tells_the_user_which_word() -> None:
    error = classify(200, mj(24, "可能包含敏感词", promptEn="a nude cat", bannedWord="nude"))
    assert type(error) is BannedPrompt
    assert error.banned_word == "nude" and "nude" in error.user_message
    assert error.mj_code == 24 and error.description == "可能包含敏感词" and error.status == 200
    assert error.properties == {"promptEn": "a nude cat", "bannedWord": "nude"}
    unnamed = classify(200, mj(24, "可能包含敏感词"))
    assert type(unnamed) is BannedPrompt and unnamed.banned_word is None
    assert unnamed.user_message == BannedPrompt.default_user_message


@pytest.mark.parametrize("code", [23, 9])
def test_a_full_queue_is_worth_retrying_and_created_nothing(code: int) -> None:
    error = classify(200, mj(code, "队列已满，请稍后尝试", numberOfQueues="10"))
    assert type(error) is QueueFull and error.retryable and error.mj_code == code
    assert error.description == "队列已满，请稍后尝试" and error.status == 200
    assert error.properties == {"numberOfQueues": "10"}


def test_another_mj_refusal_keeps_its_code_and_words() -> None:
    error = classify(200, mj(7, "账号已被封禁"))
    assert type(error) is MjSubmitRejected and error.mj_code == 7 and error.code == "7"
    assert error.status == 200
    assert error.description == "账号已被封禁" and "账号已被封禁" in str(error)


@pytest.mark.parametrize("code", [1, 21, 22])
def test_accepting_mj_codes_never_name_the_refusal(code: int) -> None:
    # An HTTP error whose body says "accepted" is read by its status; its code is not a reason.
    error = classify(400, mj(code, "x"))
    assert type(error) is InvalidRequest and error.code is None


def test_an_mj_refusal_counts_before_the_http_status() -> None:
    assert type(classify(400, mj(24, "可能包含敏感词", bannedWord="x"))) is BannedPrompt
    assert type(classify(500, mj(23, "队列已满"))) is QueueFull
    assert classify(400, mj(4, "参数错误")).code == "4"


@pytest.mark.parametrize(
    ("status", "body", "kind", "code"),
    [
        (401, v1("无效的令牌"), AuthenticationError, None),
        (403, v1("用户已被封禁"), PermissionDenied, None),
        (404, v1("Invalid URL (POST /v1/x)", type_="invalid_request_error"), NotOffered, None),
        (200, v1("The model 'x' does not exist", "model_not_found"), ModelNotAvailable,
         "model_not_found"),
        (400, {"description": "task_no_found ", "type": "upstream_error", "code": 4},
         NotFound, "task_no_found"),
        (400, {"description": "task_not_found ", "type": "upstream_error", "code": 4},
         NotFound, "task_not_found"),
        (400, {"error": "midjourney_task_not_found"}, NotFound, "midjourney_task_not_found"),
        (404, mj(3, "关联任务不存在或已失效"), NotFound, "3"),
        (200, mj(3, "无可用的账号实例"), NotFound, "3"),
        (400, {"description": "task_status_not_success ", "type": "upstream_error", "code": 4},
         TaskNotReady, "task_status_not_success"),
        (400, mj(4, "关联任务状态错误"), TaskNotReady, "4"),
        (501, v1("API not implemented", "api_not_implemented"), NotSupported,
         "api_not_implemented"),
        (200, v1("not here", "api_not_implemented"), NotSupported, "api_not_implemented"),
        (500, {"description": "do_request_failed ", "type": "upstream_error", "code": 5},
         ServerError, "do_request_failed"),
        (200, mj(5, "提交失败"), ServerError, "5"),
        (400, v1("prompt is required", "invalid_image_request"), InvalidRequest,
         "invalid_image_request"),
        (200, mj(4, "prompt不能为空"), InvalidRequest, "4"),
        (400, {"description": "unknown_action:MJ::Nope", "type": "new_api_error", "code": 4},
         InvalidRequest, "unknown_action"),
        (403, v1("user quota is not enough", "insufficient_user_quota"), QuotaExceeded,
         "insufficient_user_quota"),
        (400, {"description": "quota_not_enough ", "type": "upstream_error", "code": 4},
         QuotaExceeded, "quota_not_enough"),
        (500, v1("预扣费额度失败", "pre_consume_token_quota_failed"), QuotaExceeded,
         "pre_consume_token_quota_failed"),
    ],
)
def test_each_kind_of_failure_is_recognised_whatever_its_envelope(
        status: int, body: Any, kind: type[UpstreamError], code: str | None) -> None:
    error = classify(status, body)
    assert type(error) is kind
    assert error.code == code and error.status == status
    # The gateway's own words, for the operator's log.
    assert error.detail and error.detail.strip() in json.dumps(body, ensure_ascii=False)


def test_rate_limits_carry_the_wait_the_gateway_asked_for() -> None:
    error = classify(429, v1("当前分组上游负载已饱和"), headers=httpx.Headers({"Retry-After": "7"}))
    assert type(error) is RateLimited and error.retry_after == 7.0 and error.retryable
    assert (error.status, error.detail) == (429, "当前分组上游负载已饱和")
    answer = response(429, b'{"description": "busy", "code": 30}')
    answer.headers["Retry-After"] = "3"
    read = error_from_response(answer, paid=False, redact=redact)
    assert type(read) is RateLimited and read.retry_after == 3.0
    assert classify(429, v1("busy")).retry_after is None  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("value", "seconds"), [("2", 2.0), ("0.5", 0.5), ("-5", 0.0), ("soon", None), (None, None)])
def test_retry_after_is_read_in_seconds(value: str | None, seconds: float | None) -> None:
    headers = httpx.Headers({} if value is None else {"Retry-After": value})
    assert retry_after_seconds(headers) == seconds


def test_the_gateways_own_words_reach_the_log_without_its_request_id() -> None:
    error = classify(400, v1("Invalid model name passed in model=gpt-9 (request id: 2024X1)"))
    assert error.detail == "Invalid model name passed in model=gpt-9"
    assert classify(400, None).detail == "HTTP 400"
    assert classify(500, ["not", "an", "envelope"]).detail == "HTTP 500"
    empty = classify(500, {"error": {"message": None, "code": ""}})
    assert empty.code is None and empty.detail == "HTTP 500"
    assert classify(400, {"code": 4, "description": None}).detail == "HTTP 400"
    # A bare "message" is still the gateway's own words, kept for the operator's log.
    assert classify(400, {"message": "not an envelope we know"}).detail == "not an envelope we know"


def test_a_sentence_in_an_error_string_is_a_reason_not_a_code() -> None:
    error = classify(400, {"error": "Invalid model name passed in model=gpt-9"})
    assert error.code is None and error.detail == "Invalid model name passed in model=gpt-9"
    assert classify(400, {"error": "model_not_found"}).code == "model_not_found"


def test_an_mj_envelope_is_read_with_its_description_or_its_code_alone() -> None:
    described = classify(400, {"description": "task_no_found "})
    assert type(described) is NotFound and described.code == "task_no_found"
    coded = classify(200, {"code": 24, "properties": {"bannedWord": "gore"}})
    assert type(coded) is BannedPrompt and coded.banned_word == "gore"
    odd = classify(400, {"description": "bad request", "code": "abc"})
    assert type(odd) is InvalidRequest and odd.code is None and odd.detail == "bad request"


def test_long_reasons_are_cut_and_their_whitespace_folded() -> None:
    error = classify(400, v1("word\n\n  " * 200))
    assert len(error.detail) == 300 and error.detail.endswith("…")
    assert "\n" not in error.detail and "  " not in error.detail
    assert classify(400, v1("x" * 300)).detail == "x" * 300


# --- secrets ------------------------------------------------------------------------------------

def test_the_key_and_anything_key_shaped_are_scrubbed_from_logged_reasons() -> None:
    other = "sk-otherKey_98-76abc"
    error = classify(401, v1(f"key {KEY} is invalid; tried {other} too"))
    assert KEY not in str(error) and other not in str(error)
    assert "sk-***" in error.detail
    assert redact(f"x {KEY} y") == "x *** y"
    assert redact("sk-abc stays: too short to be a key") == "sk-abc stays: too short to be a key"
    assert make_redactor("")("token sk-1234567890") == "token sk-***"
    assert make_redactor("plainsecret")("the plainsecret leaked") == "the *** leaked"


def test_a_transport_error_naming_the_key_is_scrubbed() -> None:
    request = httpx.Request("GET", "http://gw.test/v1/models")
    exc = httpx.ConnectError(f"cannot reach http://gw.test/?key={KEY}", request=request)
    error = error_from_transport(exc, paid=False, redact=redact)
    assert KEY not in str(error) and "***" in str(error)


def test_a_body_that_is_not_json_is_kept_as_scrubbed_text() -> None:
    error = error_from_response(response(500, f"oops {KEY}".encode(), "application/json"),
                                paid=False, redact=redact)
    assert type(error) is ServerError and error.detail == "oops ***"


# --- HTML and other answers ---------------------------------------------------------------------

def test_an_html_error_page_is_read_by_its_status() -> None:
    page = b"<html><head><title>502 Bad Gateway</title></head></html>"
    error = error_from_response(response(502, page, "text/html"), paid=True, redact=redact)
    assert type(error) is ServerError and error.maybe_charged
    assert error.detail == "HTML page (HTTP 502)"
    not_found = error_from_response(response(404, page, "text/html; charset=utf-8"), paid=False,
                                    redact=redact)
    # A 404 page instead of an answer: the route is missing here, not a task.
    assert type(not_found) is NotOffered


def test_an_empty_body_is_read_by_its_status() -> None:
    error = error_from_response(response(503, b""), paid=False, redact=redact)
    assert type(error) is ServerError and error.detail == "HTTP 503"


def test_a_json_error_body_is_decoded() -> None:
    body = b'{"error": {"message": "bad key", "code": "invalid_api_key"}}'
    error = error_from_response(response(401, body), paid=False, redact=redact)
    assert type(error) is AuthenticationError and error.code == "invalid_api_key"


@pytest.mark.parametrize(
    ("content_type", "html"),
    [("text/html", True), ("TEXT/HTML; charset=utf-8", True), ("application/json", False),
     ("", False)])
def test_html_is_known_by_its_content_type(content_type: str, html: bool) -> None:
    assert is_html(response(200, b"<html></html>", content_type)) is html


def test_an_answer_without_a_content_type_is_not_html() -> None:
    bare = httpx.Response(200, content=b"<html></html>",
                          request=httpx.Request("GET", "http://gw.test/"))
    assert "content-type" not in bare.headers and is_html(bare) is False


def test_an_html_page_where_json_was_expected_means_the_route_is_not_served() -> None:
    error = not_supported_html(response(200, b"<html></html>", "text/html",
                                        path="/mj/submit/imagine"))
    assert type(error) is NotOffered and error.status == 200
    assert isinstance(error, NotSupported)
    assert error.detail == "POST /mj/submit/imagine answered an HTML page"
