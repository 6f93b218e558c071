"""Answers the sandbox never gives but real gateways do (§1.4, §10): the client copes or says."""

from __future__ import annotations

import json

import httpx
import pytest

from bot.upstream import (
    AuthenticationError,
    BadResponse,
    BannedPrompt,
    ChatChunk,
    ConnectionFailed,
    InvalidRequest,
    NotFound,
    NotSupported,
    PermissionDenied,
    QueueFull,
    QuotaExceeded,
    RateLimited,
    ServerError,
    StreamInterrupted,
    TaskNotReady,
    UpstreamClient,
    UpstreamTimeout,
)
from tests.upstream.conftest import FAST_RETRY, KEY, CountingTransport
from tests.upstream.network import PretendInternet
from tests.upstream.scripted import (
    ScriptedServer,
    json_reply,
    raw_reply,
    sse_reply,
    stalled_sse,
)

HTML = "<!doctype html><html><body>new-api dashboard</body></html>"
CHAT = "POST /v1/chat/completions"
USER = [{"role": "user", "content": "hi"}]


def chunk(content: str | None = None, finish: str | None = None) -> str:
    delta = {} if content is None else {"content": content}
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return "data: " + json.dumps({"object": "chat.completion.chunk", "choices": [choice]})


async def collect(client: UpstreamClient) -> tuple[str, list[ChatChunk]]:
    text, chunks = "", []
    async for c in client.stream_chat("gpt-4o-mini", USER):
        text += c.text
        chunks.append(c)
    return text, chunks


async def test_submit_result_as_number_and_null_properties_is_accepted(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    scripted.on("POST /mj/submit/imagine", json_reply(
        {"code": 1, "description": "Submit success", "result": 1730621826053455,
         "properties": None, "extra": {"x": 1}}))
    result = await scripted_client.mj_imagine("a cat")
    assert result.task_id == "1730621826053455"
    assert result.properties == {}
    assert not result.needs_modal


async def test_fresh_gateway_task_with_empty_status_and_nulls_parses(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    scripted.on("GET /mj/task/1730621826053455/fetch", json_reply(
        {"id": "1730621826053455", "action": "IMAGINE", "status": "", "progress": "0%",
         "startTime": 0, "imageUrl": "", "buttons": None, "properties": None, "videoUrls": []}))
    task = await scripted_client.mj_fetch("1730621826053455")
    assert (task.status, task.percent, task.buttons, task.properties) == ("", 0, [], {})
    assert task.image_url is None and task.start_time is None
    assert not task.is_finished


async def test_list_accepts_missing_fields_and_numeric_ids(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    scripted.on("POST /mj/task/list-by-condition", json_reply(
        [{"id": 1, "status": "SUCCESS", "progress": "100%",
          "buttons": [{"customId": "MJ::JOB::upsample::1::h", "label": "U1", "emoji": None}],
          "properties": {"finalPrompt": "pig --v 6.1"}},
         {"id": "2"}]))
    tasks = await scripted_client.mj_list(["1", "2"])
    assert [t.id for t in tasks] == ["1", "2"]
    assert tasks[0].buttons[0].custom_id == "MJ::JOB::upsample::1::h"
    assert tasks[0].final_prompt == "pig --v 6.1" and tasks[0].is_finished
    assert tasks[1].status == "" and tasks[1].percent is None


async def test_html_200_means_not_routed(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    for route in ("GET /mj/task/queue", "POST /mj/task/7/cancel", "GET /mj/task/7/fetch",
                  "POST /mj/submit/shorten"):
        scripted.on(route, raw_reply(HTML, "text/html"))
    assert await scripted_client.mj_queue() is None
    assert await scripted_client.mj_cancel("7") is False
    with pytest.raises(NotSupported):
        await scripted_client.mj_fetch("7")
    with pytest.raises(NotSupported) as caught:
        await scripted_client.mj_shorten("a long prompt")
    assert not caught.value.maybe_charged
    assert scripted.hits["POST /mj/submit/shorten"] == 1


async def test_cancel_with_empty_200_is_true(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    scripted.on("POST /mj/task/7/cancel", raw_reply("", "application/json"))
    assert await scripted_client.mj_cancel("7") is True


async def test_malformed_json_is_bad_response_and_paid_one_may_be_charged(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    scripted.on("GET /v1/models", raw_reply('{"data": [', "application/json"))
    scripted.on(CHAT, raw_reply('{"choices": [', "application/json"))
    with pytest.raises(BadResponse) as read:
        await scripted_client.list_models()
    assert not read.value.maybe_charged
    with pytest.raises(BadResponse) as paid:
        await scripted_client.chat("gpt-4o-mini", USER)
    assert paid.value.maybe_charged
    assert scripted.hits[CHAT] == 1


async def test_unknown_model_error_envelope_with_200_is_not_found(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    scripted.on(CHAT, json_reply({"error": {
        "message": "The model 'x' does not exist", "type": "invalid_request_error",
        "param": "model", "code": "model_not_found"}}))
    with pytest.raises(NotFound) as caught:
        await scripted_client.chat("x", USER)
    assert caught.value.code == "model_not_found"


@pytest.mark.parametrize(
    ("status", "body", "expected", "code"),
    [
        (401, {"error": {"message": "无效的令牌 (request id: 2024)", "type": "new_api_error",
                         "code": ""}}, AuthenticationError, None),
        (403, {"error": {"message": "该令牌无权使用模型：gpt-4", "type": "new_api_error"}},
         PermissionDenied, None),
        (403, {"error": {"message": "user quota is not enough", "type": "one_api_error",
                         "code": "insufficient_user_quota"}}, QuotaExceeded,
         "insufficient_user_quota"),
        (400, {"error": {"message": "field messages is required", "type": "one_api_error",
                         "code": "invalid_text_request"}}, InvalidRequest, "invalid_text_request"),
        (501, {"error": {"message": "API not implemented", "type": "one_api_error",
                         "code": "api_not_implemented"}}, NotSupported, "api_not_implemented"),
        (503, {"error": {"message": "当前分组 default 下对于模型 x 无可用渠道"}},
         ServerError, None),
    ],
)
async def test_v1_error_envelopes_map_to_one_tree(
    scripted: ScriptedServer,
    scripted_client: UpstreamClient,
    status: int,
    body: object,
    expected: type[Exception],
    code: str | None,
) -> None:
    scripted.on(CHAT, json_reply(body, status=status))
    with pytest.raises(expected) as caught:
        await scripted_client.chat("gpt-4", USER)
    err = caught.value
    assert getattr(err, "status", None) == status
    assert getattr(err, "code", None) == code
    assert "request id" not in str(err)
    assert scripted.hits[CHAT] == 1  # a paid call never retries an answered error


@pytest.mark.parametrize(
    ("route", "status", "body", "expected"),
    [
        ("POST /mj/submit/action", 400,
         {"description": "task_not_found ", "type": "upstream_error", "code": 4}, NotFound),
        ("POST /mj/submit/action", 400,
         {"description": "task_status_not_success ", "type": "upstream_error", "code": 4},
         TaskNotReady),
        ("POST /mj/submit/action", 400,
         {"description": "unknown_action:MJ::BOOKMARK::h", "type": "new_api_error", "code": 4},
         InvalidRequest),
        ("POST /mj/submit/action", 400,
         {"description": "quota_not_enough ", "type": "upstream_error", "code": 4},
         QuotaExceeded),
        ("POST /mj/submit/action", 400,
         {"description": "do_request_failed ", "type": "upstream_error", "code": 5}, ServerError),
        ("POST /mj/submit/action", 200,
         {"code": 24, "description": "可能包含敏感词",
          "properties": {"promptEn": "x", "bannedWord": "gore"}}, BannedPrompt),
        ("POST /mj/submit/action", 200, {"code": 9, "description": "提交失败，队列已满"},
         QueueFull),
        ("POST /mj/submit/action", 404, {"code": 3, "description": "关联任务不存在或已失效"},
         NotFound),
    ],
)
async def test_mj_envelopes_map_to_one_tree(
    scripted: ScriptedServer,
    scripted_client: UpstreamClient,
    route: str,
    status: int,
    body: object,
    expected: type[Exception],
) -> None:
    scripted.on(route, json_reply(body, status=status))
    with pytest.raises(expected) as caught:
        await scripted_client.mj_action("1730621826053455", "MJ::JOB::upsample::1::h")
    assert not caught.value.maybe_charged  # type: ignore[attr-defined]
    if isinstance(caught.value, BannedPrompt):
        assert caught.value.banned_word == "gore"
        assert "gore" in caught.value.user_message
    assert scripted.hits[route] == 1


async def test_image_seed_number_result_and_seed_errors(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    scripted.on("GET /mj/task/1/image-seed",
                json_reply({"code": 1, "description": "成功", "result": 3295276012}))
    scripted.on("GET /mj/task/2/image-seed",
                json_reply({"code": 4, "description": "关联任务状态错误"}, status=400))
    assert await scripted_client.mj_image_seed("1") == "3295276012"
    with pytest.raises(TaskNotReady):
        await scripted_client.mj_image_seed("2")


async def test_read_honours_retry_after_then_succeeds(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    scripted.on("GET /v1/models",
                json_reply({"error": {"message": "busy"}}, 429, {"Retry-After": "0.01"}),
                json_reply({"object": "list", "data": [{"id": "gpt-4o", "owned_by": "openai"}]}))
    models = await scripted_client.list_models()
    assert [m.id for m in models] == ["gpt-4o"]
    assert scripted.hits["GET /v1/models"] == 2


async def test_paid_call_retries_a_429_once_only(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    busy = json_reply({"error": {"message": "busy"}}, 429, {"Retry-After": "0.01"})
    scripted.on(CHAT, busy)
    with pytest.raises(RateLimited) as caught:
        await scripted_client.chat("gpt-4o-mini", USER)
    assert caught.value.retry_after == pytest.approx(0.01)
    assert scripted.hits[CHAT] == 2


async def test_429_with_retry_after_beyond_the_cap_is_not_waited_for(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    busy = json_reply({"error": {"message": "x"}}, 429, {"Retry-After": "60"})
    scripted.on("GET /v1/models", busy)
    with pytest.raises(RateLimited) as caught:
        await scripted_client.list_models()
    assert caught.value.retry_after == 60 and caught.value.retryable
    assert scripted.hits["GET /v1/models"] == 1


async def test_reads_retry_5xx_but_paid_calls_do_not(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    scripted.on("POST /mj/task/list-by-condition", raw_reply("<h1>502 Bad Gateway</h1>",
                                                             "text/html", 502))
    scripted.on("POST /v1/embeddings", raw_reply("<h1>502 Bad Gateway</h1>", "text/html", 502))
    with pytest.raises(ServerError):
        await scripted_client.mj_list(["1"])
    assert scripted.hits["POST /mj/task/list-by-condition"] == FAST_RETRY.attempts
    with pytest.raises(ServerError) as paid:
        await scripted_client.embed(["x"])
    assert paid.value.maybe_charged  # a proxy's 502 may hide a request that went through
    assert scripted.hits["POST /v1/embeddings"] == 1


async def test_gateway_refusing_stream_options_is_asked_again_without_it(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    refusal = {"message": "Unrecognized request argument supplied: stream_options",
               "type": "invalid_request_error"}
    scripted.on(CHAT,
                json_reply({"error": refusal}, 400),
                sse_reply(chunk("Hel"), chunk("lo"), chunk(None, "stop"), "data: [DONE]"))
    text, chunks = await collect(scripted_client)
    assert text == "Hello"
    assert all(c.usage is None for c in chunks)  # no usage: no failure
    first, second = (r.json() for r in scripted.received)
    assert first["stream_options"] == {"include_usage": True}
    assert "stream_options" not in second and second["stream"] is True


async def test_other_400_on_stream_is_not_asked_again(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    scripted.on(CHAT, json_reply({"error": {"message": "max_tokens is invalid"}}, 400))
    with pytest.raises(InvalidRequest):
        await collect(scripted_client)
    assert scripted.hits[CHAT] == 1


async def test_stream_usage_chunk_and_keepalive_comments(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    scripted.on(CHAT, sse_reply(
        ": keep-alive", chunk(""), chunk("Hi"), chunk(" there").replace("data: ", "data:"),
        chunk(None, "stop"), "data: " + json.dumps({"choices": [], "usage": usage}), "data:[DONE]"))
    text, chunks = await collect(scripted_client)
    assert text == "Hi there"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 5


async def test_stream_ending_without_done_or_finish_is_interrupted(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    scripted.on(CHAT, sse_reply(chunk("Once upon"), chunk(" a time")))
    with pytest.raises(StreamInterrupted) as caught:
        await collect(scripted_client)
    assert caught.value.partial_text == "Once upon a time"
    assert caught.value.maybe_charged


async def test_error_event_mid_stream_keeps_partial_text(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    scripted.on(CHAT, sse_reply(chunk("Part"), 'data: {"error": {"message": "upstream died"}}'))
    with pytest.raises(StreamInterrupted) as caught:
        await collect(scripted_client)
    assert caught.value.partial_text == "Part"


async def test_stream_answered_as_plain_json_still_gives_the_text(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    scripted.on(CHAT, json_reply({"model": "gpt-4o-mini", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "whole"},
         "finish_reason": "stop"}]}))
    text, chunks = await collect(scripted_client)
    assert text == "whole" and len(chunks) == 1


async def test_transcript_as_plain_text_is_accepted(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    scripted.on("POST /v1/audio/transcriptions", raw_reply("Hello world.\n", "text/plain"))
    transcript = await scripted_client.transcribe(b"OggS...", "voice.ogg")
    assert transcript.text == "Hello world." and transcript.language is None


async def test_refused_connection_is_retried_even_for_paid_calls(closed_port: int) -> None:
    transport = CountingTransport()
    async with UpstreamClient(
        f"http://127.0.0.1:{closed_port}", KEY, transport=transport, retry=FAST_RETRY
    ) as client:
        with pytest.raises(ConnectionFailed) as caught:
            await client.mj_imagine("a cat")
    # nothing reached a server, so every try was safe and nothing may be charged
    assert transport.sent == FAST_RETRY.attempts
    assert caught.value.retryable and not caught.value.maybe_charged


async def test_base_url_with_v1_suffix_is_tolerated(scripted: ScriptedServer) -> None:
    scripted.on("GET /v1/models", json_reply({"data": [{"id": "a"}]}))
    async with UpstreamClient(scripted.url + "/v1/", KEY) as client:
        assert [m.id for m in await client.list_models()] == ["a"]


async def test_gateway_under_a_path_prefix(scripted: ScriptedServer) -> None:
    scripted.on("GET /api/v1/models", json_reply({"data": [{"id": "a"}]}))
    scripted.on("GET /api/mj/task/7/fetch", json_reply({"id": "7", "status": "SUCCESS"}))
    async with UpstreamClient(scripted.url + "/api", KEY) as client:
        assert [m.id for m in await client.list_models()] == ["a"]
        assert (await client.mj_fetch("7")).is_finished


async def test_download_sends_the_key_only_to_the_gateway(scripted: ScriptedServer) -> None:
    cdn = ScriptedServer()
    await cdn.start()
    internet = PretendInternet()
    internet.host("cdn.example.com", "93.184.216.34")
    cdn_port = httpx.URL(cdn.url).port or 80
    client, _ = internet.client(scripted.url, cdn_port)
    try:
        png = "\x89PNG fake"
        cdn.on("GET /attachments/1/a.png", raw_reply(png, "image/png"))
        scripted.on("GET /mj/image/123", raw_reply(png, "image/png"))
        own = await client.download("/mj/image/123")
        foreign = await client.download(f"http://cdn.example.com:{cdn_port}/attachments/1/a.png")
    finally:
        await client.aclose()
        await cdn.stop()
    assert own.content_type == foreign.content_type == "image/png"
    assert own.data == foreign.data == png.encode()
    assert scripted.received[-1].headers.get("Authorization") == f"Bearer {KEY}"
    assert "Authorization" not in cdn.received[-1].headers
    assert cdn.received[-1].headers["Host"] == f"cdn.example.com:{cdn_port}"


async def test_download_over_the_cap_is_refused(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    scripted.on("GET /mj/image/9", raw_reply("x" * 5000, "image/png"))
    with pytest.raises(BadResponse):
        await scripted_client.download("/mj/image/9", max_bytes=1000)


async def test_stream_dying_before_any_text_is_a_plain_timeout(scripted: ScriptedServer) -> None:
    scripted.on(CHAT, stalled_sse(0.5))
    async with UpstreamClient(scripted.url, KEY, read_timeout=0.1, retry=FAST_RETRY) as client:
        with pytest.raises(UpstreamTimeout) as caught:
            await collect(client)
    assert caught.value.maybe_charged and scripted.hits[CHAT] == 1
