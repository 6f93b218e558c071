"""The API key never shows: not in reprs, exception text, tracebacks, or any log line."""

from __future__ import annotations

import logging
import traceback

import pytest
from pydantic import SecretStr

from bot.upstream import AuthenticationError, UpstreamClient, UpstreamError
from tests.upstream.conftest import FAST_RETRY, KEY
from tests.upstream.scripted import ScriptedServer, json_reply, raw_reply

SECRET_PART = KEY.removeprefix("sk-")


def shows_no_key(text: str) -> bool:
    return SECRET_PART not in text


def everything_about(err: BaseException) -> str:
    return " ".join([
        str(err), repr(err), getattr(err, "user_message", ""),
        "".join(traceback.format_exception(err)),
    ])


async def test_client_repr_hides_the_key(scripted: ScriptedServer) -> None:
    for key in (KEY, SecretStr(KEY)):
        async with UpstreamClient(scripted.url, key) as client:
            assert shows_no_key(repr(client)) and shows_no_key(str(client))
            assert shows_no_key(repr(client.__dict__))


async def test_key_echoed_by_the_gateway_is_scrubbed_from_errors(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    scripted.on("POST /v1/chat/completions", json_reply(
        {"error": {"message": f"无效的令牌 {KEY} (request id: 1)", "type": "new_api_error"}}, 401))
    with pytest.raises(AuthenticationError) as caught:
        await scripted_client.chat("gpt-4o-mini", [{"role": "user", "content": "hi"}])
    assert shows_no_key(everything_about(caught.value))


async def test_transport_failures_do_not_leak_the_key(closed_port: int) -> None:
    async with UpstreamClient(
        f"http://127.0.0.1:{closed_port}", KEY, retry=FAST_RETRY
    ) as client:
        with pytest.raises(UpstreamError) as caught:
            await client.list_models()
    assert shows_no_key(everything_about(caught.value))


async def test_no_log_line_carries_the_key(
    scripted: ScriptedServer, scripted_client: UpstreamClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    scripted.on("GET /v1/models",
                raw_reply("<h1>502</h1>", "text/html", 502),
                json_reply({"data": [{"id": "gpt-4o"}]}))
    scripted.on("POST /v1/embeddings", json_reply({"error": {"message": KEY}}, 500))
    await scripted_client.list_models()
    with pytest.raises(UpstreamError) as caught:
        await scripted_client.embed(["x"])
    logging.getLogger("test").exception("reported", exc_info=caught.value)
    assert caplog.records, "expected the client and httpx to log something"
    for record in caplog.records:
        assert shows_no_key(caplog.handler.format(record))
    # and the key really was sent, so the checks above looked at live traffic
    assert scripted.received[0].headers["Authorization"] == f"Bearer {KEY}"
