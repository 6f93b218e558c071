"""Capabilities against the sandbox with route families switched off (a chat-only proxy, a
gateway without Midjourney), the missing routes answered as foreign servers do (JSON or HTML 404).

Needs the sandbox's `families` option (bot.sandbox.families); skipped where it is not there yet.
"""

from __future__ import annotations

import pytest

from bot.upstream import NotFound, NotOffered, UpstreamClient
from tests.upstream.conftest import FAST_RETRY, KEY

pytest.importorskip("bot.sandbox.families")

from bot.sandbox.server import SandboxServer

USER = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize("absent", ["json", "html"])
async def test_a_chat_only_gateway_offers_chat_alone(absent: str) -> None:
    async with SandboxServer(speed=200.0, families=["chat"], absent=absent) as server, \
            UpstreamClient(server.url, KEY, retry=FAST_RETRY) as client:
        caps = await client.capabilities.get()
        assert caps.midjourney is False
        assert caps.chat_models and "gpt-4o-mini" in caps.chat_models
        assert caps.image_models == caps.speech_models == caps.transcription_models == ()
        assert [c for c in ("ask", "imagine", "describe", "speak", "transcribe")
                if caps.offers(c)] == ["ask"]
        for call in (client.mj_imagine("a cat"), client.speech("hello"),
                     client.create_image("a cat")):
            with pytest.raises(NotOffered) as caught:
                await call
            assert not isinstance(caught.value, NotFound)
        assert (await client.chat("gpt-4o-mini", USER)).text.startswith("Echo: hi")


async def test_a_gateway_without_midjourney_still_draws_with_dalle() -> None:
    families = ["chat", "images", "audio", "embeddings"]
    async with SandboxServer(speed=200.0, families=families) as server, \
            UpstreamClient(server.url, KEY, retry=FAST_RETRY) as client:
        caps = await client.capabilities.get()
        assert caps.midjourney is False and caps.image_models == ("dall-e-3",)
        assert caps.offers("imagine") and caps.offers("speak") and not caps.offers("blend")
        assert caps.missing_reason("imagine") == (
            "This gateway has no Midjourney; /imagine engine:dalle works here"
        )
        with pytest.raises(NotOffered):  # a poll of a missing route: not "task not found"
            await client.mj_fetch("1730621826053455")
        assert (await client.capabilities.get()).midjourney is False
