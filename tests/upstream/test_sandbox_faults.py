"""Every sandbox fault seen through the client: the right error, retries only where safe."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from bot.sandbox.server import SandboxServer
from bot.upstream import (
    AuthenticationError,
    BadResponse,
    BannedPrompt,
    ConnectionFailed,
    QueueFull,
    QuotaExceeded,
    RateLimited,
    RetryPolicy,
    ServerError,
    StreamInterrupted,
    UpstreamClient,
    UpstreamTimeout,
)
from tests.upstream.conftest import FAST_RETRY, KEY
from tests.upstream.test_sandbox_mj import button, finished, mask_data_url
from tests.upstream.test_sandbox_v1 import ogg_opus, png_data_url

USER = [{"role": "user", "content": "tell me a story [[tokens:60]] [[tps:100000]]"}]
CHAT = "POST /v1/chat/completions"
LIST = "POST /mj/task/list-by-condition"


async def drain(client: UpstreamClient, messages: list[dict[str, Any]] = USER) -> str:
    return "".join([c.text async for c in client.stream_chat("gpt-4o-mini", messages)])


@pytest.fixture
async def impatient(sandbox: SandboxServer) -> AsyncIterator[UpstreamClient]:
    """A client whose read timeout is far below the sandbox's injected latency."""
    async with UpstreamClient(sandbox.url, KEY, read_timeout=0.1, retry=FAST_RETRY) as c:
        yield c


async def test_read_timeout_on_a_read_is_retried_then_reported(
    sandbox: SandboxServer, impatient: UpstreamClient
) -> None:
    sandbox.set_fault("latency=0.5")
    with pytest.raises(UpstreamTimeout) as caught:
        await impatient.mj_list(["1"])
    assert sandbox.hits[LIST] == FAST_RETRY.attempts
    assert caught.value.retryable and not caught.value.maybe_charged


async def test_read_timeout_on_every_paid_route_reaches_the_gateway_once(
    sandbox: SandboxServer, client: UpstreamClient, impatient: UpstreamClient
) -> None:
    grid = await finished(client, (await client.mj_imagine("parent")).task_id)
    single = await finished(client, (await client.mj_action(grid.id, button(grid, "U1"))).task_id)
    modal_child = (await client.mj_action(single.id, button(single, "Vary (Region)"))).task_id
    image = png_data_url()
    voice = ogg_opus(0.5)
    paid: dict[str, Callable[[], Awaitable[object]]] = {
        "POST /v1/chat/completions": lambda: impatient.chat("gpt-4o-mini", USER),
        "POST /v1/completions": lambda: impatient.complete("gpt-3.5-turbo-instruct", "hi"),
        "POST /v1/images/generations": lambda: impatient.create_image("a fox"),
        "POST /v1/embeddings": lambda: impatient.embed(["x"]),
        "POST /v1/audio/transcriptions": lambda: impatient.transcribe(voice, "v.ogg"),
        "POST /v1/audio/translations": lambda: impatient.transcribe(voice, "v.ogg", translate=True),
        "POST /v1/audio/speech": lambda: impatient.speech("hello"),
        "POST /mj/submit/imagine": lambda: impatient.mj_imagine("a fox"),
        "POST /mj/submit/action": lambda: impatient.mj_action(grid.id, button(grid, "V1")),
        "POST /mj/submit/modal": lambda: impatient.mj_modal(modal_child, "x",
                                                            mask_base64=mask_data_url()),
        "POST /mj/submit/blend": lambda: impatient.mj_blend([image, png_data_url((1, 2, 3))]),
        "POST /mj/submit/describe": lambda: impatient.mj_describe(image),
        "POST /mj/submit/shorten": lambda: impatient.mj_shorten("a long prompt"),
        "POST /mj/insight-face/swap": lambda: impatient.mj_swap_face(image, mask_data_url()),
    }
    before = sandbox.hits.copy()
    sandbox.set_fault("latency=0.5")
    for route, call in paid.items():
        with pytest.raises(UpstreamTimeout) as caught:
            await call()
        assert caught.value.maybe_charged, route
        assert sandbox.hits[route] - before[route] == 1, route
    # and the streamed chat: the stream never started, still exactly one request
    with pytest.raises(UpstreamTimeout):
        await drain(impatient)
    assert sandbox.hits[CHAT] - before[CHAT] == 2


async def test_429_on_reads_is_not_waited_for_beyond_the_cap(sandbox: SandboxServer) -> None:
    sandbox.set_fault("429")
    policy = RetryPolicy(attempts=3, base_delay=0.001, max_retry_after=0.5)
    async with UpstreamClient(sandbox.url, KEY, retry=policy) as client:
        with pytest.raises(RateLimited) as caught:
            await client.mj_list(["1"])
    assert caught.value.retry_after == 1.0
    assert sandbox.hits[LIST] == 1


async def test_429_on_a_paid_call_is_retried_once_after_retry_after(
    sandbox: SandboxServer, client: UpstreamClient
) -> None:
    sandbox.set_fault("429")
    with pytest.raises(RateLimited) as caught:
        await client.mj_imagine("a fox")
    assert not caught.value.maybe_charged
    assert sandbox.hits["POST /mj/submit/imagine"] == 2


async def test_500_is_retried_for_reads_only(
    sandbox: SandboxServer, client: UpstreamClient
) -> None:
    sandbox.set_fault("500")
    with pytest.raises(ServerError):
        await client.list_models()
    with pytest.raises(ServerError):
        await client.mj_list(["1"])
    with pytest.raises(ServerError) as paid:
        await client.chat("gpt-4o-mini", USER)
    assert sandbox.hits["GET /v1/models"] == FAST_RETRY.attempts
    assert sandbox.hits[LIST] == FAST_RETRY.attempts
    assert sandbox.hits[CHAT] == 1 and not paid.value.maybe_charged


async def test_502_html_is_a_server_error(sandbox: SandboxServer, client: UpstreamClient) -> None:
    sandbox.set_fault("502")
    with pytest.raises(ServerError) as read:
        await client.mj_fetch("1")
    with pytest.raises(ServerError) as paid:
        await client.mj_imagine("a fox")
    assert read.value.status == paid.value.status == 502
    assert paid.value.maybe_charged and sandbox.hits["POST /mj/submit/imagine"] == 1


async def test_badjson(sandbox: SandboxServer, client: UpstreamClient) -> None:
    sandbox.set_fault("badjson")
    with pytest.raises(BadResponse) as read:
        await client.list_models()
    with pytest.raises(BadResponse) as paid:
        await client.chat("gpt-4o-mini", USER)
    assert not read.value.maybe_charged and paid.value.maybe_charged
    with pytest.raises(StreamInterrupted) as streamed:
        await drain(client)
    assert streamed.value.partial_text.startswith("Echo: tell me a story")


async def test_cut_stream_keeps_the_partial_text(
    sandbox: SandboxServer, client: UpstreamClient
) -> None:
    whole = await drain(client)
    sandbox.set_fault("cut")
    with pytest.raises(StreamInterrupted) as caught:
        await drain(client)
    partial = caught.value.partial_text
    assert partial and whole.startswith(partial) and len(partial) < len(whole)
    assert caught.value.maybe_charged and caught.value.retryable


async def test_cut_body_on_paid_call_is_not_resent_but_on_read_is(
    sandbox: SandboxServer, client: UpstreamClient
) -> None:
    sandbox.set_fault("cut")
    with pytest.raises(ConnectionFailed) as paid:
        await client.chat("gpt-4o-mini", USER)
    assert paid.value.maybe_charged and sandbox.hits[CHAT] == 1
    with pytest.raises(ConnectionFailed):
        await client.list_models()
    assert sandbox.hits["GET /v1/models"] == FAST_RETRY.attempts


async def test_mj_failure_ends_the_task_with_a_reason(client: UpstreamClient) -> None:
    task = await finished(client, (await client.mj_imagine("doomed [[fault:mj_failure]]")).task_id)
    assert task.status == "FAILURE" and task.fail_reason and task.is_finished


async def test_banned_prompt_names_the_word(client: UpstreamClient) -> None:
    with pytest.raises(BannedPrompt) as caught:
        await client.mj_imagine("gore everywhere [[fault:banned]]")
    assert caught.value.mj_code == 24 and caught.value.banned_word == "gore"
    assert not caught.value.retryable and not caught.value.maybe_charged


async def test_queue_full_is_retryable_and_free(client: UpstreamClient) -> None:
    with pytest.raises(QueueFull) as caught:
        await client.mj_imagine("busy [[fault:queue_full]]")
    assert caught.value.mj_code == 23 and caught.value.retryable
    assert not caught.value.maybe_charged


async def test_stuck_task_fails_at_the_gateway_deadline(
    sandbox: SandboxServer, client: UpstreamClient
) -> None:
    task_id = (await client.mj_imagine("forever [[fault:stuck]]")).task_id
    for _ in range(50):
        task = await client.mj_fetch(task_id)
    assert task.status == "IN_PROGRESS" and not task.is_finished
    sandbox.advance(3600)
    task = await client.mj_fetch(task_id)
    assert task.status == "FAILURE" and task.fail_reason


async def test_quota_on_both_families(sandbox: SandboxServer, client: UpstreamClient) -> None:
    sandbox.set_fault("quota")
    with pytest.raises(QuotaExceeded) as v1:
        await client.chat("gpt-4o-mini", USER)
    with pytest.raises(QuotaExceeded) as mj:
        await client.mj_imagine("a fox")
    assert (v1.value.status, v1.value.code) == (403, "insufficient_user_quota")
    assert (mj.value.status, mj.value.code) == (400, "quota_not_enough")
    assert await client.list_models()  # reading is free and still works


async def test_rejected_key_is_an_authentication_error(sandbox: SandboxServer) -> None:
    async with UpstreamClient(sandbox.url, "sk-invalid-key", retry=FAST_RETRY) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.mj_imagine("a fox")
    assert caught.value.status == 401 and not caught.value.retryable
    assert sandbox.hits["POST /mj/submit/imagine"] == 1


async def test_remix_child_waits_in_modal_until_completed(
    sandbox: SandboxServer, client: UpstreamClient
) -> None:
    grid = await finished(client, (await client.mj_imagine("a fox")).task_id)
    sandbox.set_fault("remix")
    child = await client.mj_action(grid.id, button(grid, "V2"))
    sandbox.set_fault(None)
    assert child.code == 1 and not child.needs_modal  # the gateway hides the modal step
    assert (await client.mj_fetch(child.task_id)).status == "MODAL"
    await client.mj_modal(child.task_id, "a fox in the rain")
    assert (await finished(client, child.task_id)).status == "SUCCESS"
