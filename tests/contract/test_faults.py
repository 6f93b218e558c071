"""Fault injection: every documented fault, by header, by prompt marker and for all requests."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from bot.sandbox.server import SandboxServer
from tests.contract.conftest import ALICE, client_for, fetch, finished, poll, sse_events, submit
from tests.contract.test_transport import openai_envelope

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello there friend"}]}


def fault(name: str) -> dict[str, str]:
    return {"X-Sandbox-Fault": name}


def chat_with(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": text}], **extra}


async def test_429_has_retry_after_on_v1_and_mj(client: httpx.AsyncClient) -> None:
    v1 = await client.post("/v1/chat/completions", json=CHAT, headers=fault("429"))
    assert v1.status_code == 429 and v1.headers["Retry-After"] == "1"
    openai_envelope(v1)
    mj = await client.post("/mj/submit/imagine", json={"prompt": "x"}, headers=fault("429"))
    assert mj.status_code == 429 and mj.headers["Retry-After"] == "1"
    assert mj.json()["code"] == 30


async def test_500_is_a_json_error(client: httpx.AsyncClient) -> None:
    v1 = await client.get("/v1/models", headers=fault("500"))
    assert v1.status_code == 500
    assert openai_envelope(v1)["code"] == "do_request_failed"
    mj = await client.get("/mj/task/1/fetch", headers=fault("500"))
    assert mj.status_code == 500 and mj.json()["code"] == 5


async def test_502_has_an_html_body(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/chat/completions", json=CHAT, headers=fault("502"))
    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith("text/html")
    assert "502 Bad Gateway" in response.text


async def test_badjson_breaks_bodies_and_stream_chunks(client: httpx.AsyncClient) -> None:
    plain = await client.get("/v1/models", headers=fault("badjson"))
    assert plain.status_code == 200
    assert plain.headers["Content-Type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        plain.json()
    stream = await client.post("/v1/chat/completions", json={**CHAT, "stream": True},
                               headers=fault("badjson"))
    payloads = sse_events(stream.text)
    assert payloads[-1] == "[DONE]"
    broken = 0
    for payload in payloads[:-1]:
        try:
            json.loads(payload)
        except json.JSONDecodeError:
            broken += 1
    assert broken == 1


async def test_cut_ends_the_stream_without_done(client: httpx.AsyncClient) -> None:
    received = ""
    with pytest.raises(httpx.RemoteProtocolError):
        async with client.stream("POST", "/v1/chat/completions",
                                 json={**CHAT, "stream": True},
                                 headers={**fault("cut"), "X-Sandbox-Tokens": "30"}) as response:
            assert response.status_code == 200
            async for text in response.aiter_text():
                received += text
    assert received.startswith("data: ")
    assert "[DONE]" not in received
    assert '"content":"Echo:"' in received


async def test_cut_truncates_plain_bodies(client: httpx.AsyncClient) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        await client.get("/v1/models", headers=fault("cut"))
    with pytest.raises(httpx.RemoteProtocolError):
        await client.post("/v1/audio/speech", headers=fault("cut"), json={
            "model": "tts-1", "input": "hello " * 50, "voice": "alloy"})


async def test_latency_delays_the_answer(client: httpx.AsyncClient) -> None:
    with pytest.raises(httpx.ReadTimeout):
        await client.get("/v1/models", headers=fault("latency=0.5"), timeout=0.05)
    answered = await client.get("/v1/models", headers=fault("latency=0.01"))
    assert answered.status_code == 200


async def test_quota_on_v1_and_mj(client: httpx.AsyncClient) -> None:
    v1 = await client.post("/v1/chat/completions", json=CHAT, headers=fault("quota"))
    assert v1.status_code == 403
    error = openai_envelope(v1)
    assert error["code"] == "insufficient_user_quota"
    mj = await client.post("/mj/submit/imagine", json={"prompt": "x"}, headers=fault("quota"))
    assert mj.status_code == 400
    assert mj.json() == {"description": "quota_not_enough ", "type": "upstream_error", "code": 4}
    # Reads are not billed, so the quota fault leaves them alone.
    assert (await client.get("/v1/models", headers=fault("quota"))).status_code == 200


async def test_banned_is_code_24_with_the_word(client: httpx.AsyncClient) -> None:
    result = await submit(client, "/mj/submit/imagine", {"prompt": "gore scene"},
                          headers=fault("banned"))
    assert result["code"] == 24
    assert result["description"] == "可能包含敏感词"
    assert result["properties"]["promptEn"] == "gore scene"
    assert result["properties"]["bannedWord"] == "gore"


async def test_queue_full_is_code_23(client: httpx.AsyncClient) -> None:
    result = await submit(client, "/mj/submit/imagine", {"prompt": "x"},
                          headers=fault("queue_full"))
    assert result["code"] == 23
    assert result["result"] == ""


async def test_mj_failure_ends_in_failure(client: httpx.AsyncClient) -> None:
    task_id = (await submit(client, "/mj/submit/imagine", {"prompt": "x"},
                            headers=fault("mj_failure")))["result"]
    seen = await poll(client, task_id)
    failed = seen[-1]
    assert failed["status"] == "FAILURE"
    assert failed["failReason"]
    assert failed["progress"] == "100%"
    assert failed["finishTime"] > 0 and failed["buttons"] is None


async def test_stuck_stays_in_progress(frozen: SandboxServer,
                                       frozen_client: httpx.AsyncClient) -> None:
    task_id = (await submit(frozen_client, "/mj/submit/imagine", {"prompt": "x"},
                            headers=fault("stuck")))["result"]
    for _ in range(4):
        frozen.advance(600)
        task = await fetch(frozen_client, task_id)
        assert task["status"] == "IN_PROGRESS"
    frozen.advance(1300)
    assert (await fetch(frozen_client, task_id))["status"] == "FAILURE"


async def test_remix_children_wait_in_modal_behind_code_1(sandbox: SandboxServer,
                                                          client: httpx.AsyncClient) -> None:
    grid = await finished(sandbox, client, "/mj/submit/imagine", {"prompt": "x"})
    variation = grid["buttons"][5]["customId"]
    result = await submit(client, "/mj/submit/action",
                          {"taskId": grid["id"], "customId": variation}, headers=fault("remix"))
    assert result["code"] == 1
    sandbox.advance(60)
    assert (await fetch(client, result["result"]))["status"] == "MODAL"
    done = await finished(sandbox, client, "/mj/submit/modal",
                          {"taskId": result["result"], "prompt": "x, remixed"})
    assert done["action"] == "VARIATION"


async def test_markers_inject_faults_and_are_not_echoed(sandbox: SandboxServer,
                                                        client: httpx.AsyncClient) -> None:
    quota = await client.post("/v1/chat/completions", json=chat_with("hi [[fault:quota]]"))
    assert quota.status_code == 403
    banned = await submit(client, "/mj/submit/imagine", {"prompt": "cat [[fault:banned]]"})
    assert banned["code"] == 24 and banned["properties"]["promptEn"] == "cat"
    failing = await submit(client, "/mj/submit/imagine", {"prompt": "dog [[fault:mj_failure]]"})
    task = (await poll(client, failing["result"]))[-1]
    assert task["status"] == "FAILURE" and task["prompt"] == "dog"
    speech = await client.post("/v1/audio/speech", json={
        "model": "tts-1", "input": "[[fault:500]] hello", "voice": "alloy"})
    assert speech.status_code == 500


async def test_unknown_fault_header_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/models", headers=fault("explode"))
    assert response.status_code == 400
    assert "explode" in openai_envelope(response)["message"]


async def test_set_fault_applies_to_every_request_until_cleared(
        sandbox: SandboxServer, client: httpx.AsyncClient) -> None:
    sandbox.set_fault("500")
    assert (await client.get("/v1/models")).status_code == 500
    assert (await client.post("/mj/submit/imagine", json={"prompt": "x"})).status_code == 500
    # A per-request fault wins over the global one.
    assert (await client.get("/v1/models", headers=fault("429"))).status_code == 429
    sandbox.set_fault(None)
    assert (await client.get("/v1/models")).status_code == 200
    with pytest.raises(ValueError):
        sandbox.set_fault("nope")


async def test_constructor_faults_apply_to_all_requests() -> None:
    server = SandboxServer(speed=200, faults=["quota"])
    await server.start()
    try:
        async with client_for(server, ALICE) as http:
            response = await http.post("/v1/chat/completions", json=CHAT)
        assert response.status_code == 403
    finally:
        await server.stop()


async def test_markers_in_earlier_turns_do_not_fire_again(client: httpx.AsyncClient) -> None:
    history = {"model": "gpt-4o", "messages": [
        {"role": "user", "content": "first [[fault:500]]"},
        {"role": "assistant", "content": "Echo: first"},
        {"role": "user", "content": "second"},
    ]}
    response = await client.post("/v1/chat/completions", json=history)
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"].startswith("Echo: second")
