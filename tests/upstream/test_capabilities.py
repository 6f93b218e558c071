"""What the gateway offers, learned at start and corrected by a 404; route-level 404s are
"not offered here", never a missing task; errors carry the gateway's own words."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.sandbox.server import SandboxServer
from bot.upstream import (
    Capabilities,
    CapabilityWatch,
    InvalidRequest,
    ModelInfo,
    ModelNotAvailable,
    NotFound,
    NotOffered,
    UpstreamClient,
)
from bot.upstream.envelopes import error_from_body
from tests.upstream.conftest import FAST_RETRY, KEY
from tests.upstream.foreign import MODELS, ForeignGateway
from tests.upstream.scripted import ScriptedServer, json_reply, raw_reply

USER = [{"role": "user", "content": "hi"}]
PROBE = "POST /mj/task/list-by-condition"


@pytest.fixture
async def foreign() -> AsyncIterator[ForeignGateway]:
    server = ForeignGateway()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def foreign_client(foreign: ForeignGateway) -> AsyncIterator[UpstreamClient]:
    async with UpstreamClient(foreign.url, KEY, retry=FAST_RETRY) as client:
        yield client


async def test_a_chat_only_gateway_offers_chat_and_nothing_else(
    foreign: ForeignGateway, foreign_client: UpstreamClient
) -> None:
    caps = await foreign_client.capabilities.get()
    assert caps.chat_models == MODELS
    assert caps.image_models == caps.speech_models == caps.transcription_models == ()
    assert caps.midjourney is False
    assert caps.offers("ask") and caps.offers("model") and caps.offers("help")
    for command in ("imagine", "describe", "blend", "swapface", "shorten", "speak", "transcribe"):
        assert not caps.offers(command), command
    assert caps.missing_reason("imagine") == "This gateway has no Midjourney."
    assert caps.missing_reason("speak") == "This gateway has no speech model."
    assert foreign.hits[PROBE] == 1  # one unpaid probe, nothing submitted
    assert (await foreign_client.chat(MODELS[0], USER)).text == f"Hello from {MODELS[0]}"


async def test_midjourney_and_audio_at_a_chat_only_gateway_are_not_offered_not_missing_tasks(
    foreign_client: UpstreamClient,
) -> None:
    calls = {
        "midjourney": lambda: foreign_client.mj_imagine("a cat"),
        "speech": lambda: foreign_client.speech("hello"),
        "transcription": lambda: foreign_client.transcribe(b"OggS", "voice.ogg"),
        "image": lambda: foreign_client.create_image("a cat"),
    }
    for family, call in calls.items():
        with pytest.raises(NotOffered) as caught:
            await call()
        err = caught.value
        assert not isinstance(err, NotFound)
        assert err.family == family and err.status == 404
        assert err.user_message == "This gateway does not offer that feature."
        assert err.gateway_message == "Not Found"


async def test_an_unlisted_model_is_named_with_the_gateways_own_words(
    foreign_client: UpstreamClient,
) -> None:
    with pytest.raises(ModelNotAvailable) as caught:
        await foreign_client.chat("gpt-4o-mini", USER)
    err = caught.value
    assert err.model == "gpt-4o-mini"
    assert err.user_message == "The model gpt-4o-mini is not available here."
    assert err.gateway_message is not None
    assert err.gateway_message.startswith("Invalid model name passed in model=gpt-4o-mini")
    assert "Invalid model name" in str(err)  # what an operator's log line shows


async def test_the_gateways_message_is_scrubbed_and_capped(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    said = f"No connected db. key={KEY} " + "x" * 2000
    scripted.on("POST /v1/embeddings", json_reply({"error": {"message": said}}, 500))
    with pytest.raises(Exception) as caught:
        await scripted_client.embed(["x"])
    message = getattr(caught.value, "gateway_message", None)
    assert message is not None and message.startswith("No connected db.")
    assert KEY.removeprefix("sk-") not in message and len(message) <= 300


async def test_a_route_404_while_believed_present_corrects_the_capabilities(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    scripted.on("GET /v1/models", json_reply({"data": [{"id": "gpt-4o"}, {"id": "tts-1"},
                                                      {"id": "mj_imagine"}]}))
    scripted.on(PROBE, json_reply([]))
    scripted.on("POST /mj/submit/imagine", json_reply({"detail": "Not Found"}, 404))
    scripted.on("POST /v1/audio/speech", raw_reply("<h1>404</h1>", "text/html", 404))
    caps = await scripted_client.capabilities.get()
    assert caps.midjourney is True and caps.speech_models == ("tts-1",)
    assert caps.chat_models == ("gpt-4o",)  # billing names are not models
    with pytest.raises(NotOffered):
        await scripted_client.mj_imagine("a cat")
    with pytest.raises(NotOffered):
        await scripted_client.speech("hi")
    now = await scripted_client.capabilities.get()
    assert now.midjourney is False and not now.offers("imagine")
    assert now.speech_models == () and not now.offers("speak")
    assert scripted.hits["POST /mj/submit/imagine"] == 1  # a paid call: never repeated


async def test_task_level_not_found_stays_a_missing_task(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    scripted.on(PROBE, json_reply([]))
    scripted.on("GET /mj/task/7/fetch",
                json_reply({"description": "task_no_found ", "type": "upstream_error", "code": 4},
                           400))
    scripted.on("GET /mj/task/8/image-seed",
                json_reply({"code": 3, "description": "关联任务不存在或已失效"}, 404))
    for call in (scripted_client.mj_fetch("7"), scripted_client.mj_image_seed("8")):
        with pytest.raises(NotFound) as caught:
            await call
        assert not isinstance(caught.value, NotOffered | ModelNotAvailable)
    assert (await scripted_client.capabilities.get()).midjourney is True


async def test_model_lookup_answered_200_with_an_error_body_means_no_such_model(
    sandbox: SandboxServer, client: UpstreamClient
) -> None:
    assert await client.model_info("no-such-model") is None
    known = await client.model_info("gpt-4o-mini")
    assert known is not None and known.id == "gpt-4o-mini"
    assert sandbox.hits["GET /v1/models/{model}"] == 2


async def test_the_sandbox_offers_everything(
    sandbox: SandboxServer, client: UpstreamClient
) -> None:
    caps = await client.capabilities.get()
    chat = caps.chat_models or ()
    assert caps.midjourney is True
    assert "gpt-4o-mini" in chat and "mj_imagine" not in chat
    assert caps.image_models == ("dall-e-3",)
    assert caps.speech_models == ("tts-1", "tts-1-hd")
    assert caps.transcription_models == ("whisper-1",)
    assert caps.embedding_models == (
        "text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002")
    for command in ("ask", "imagine", "describe", "blend", "swapface", "shorten", "speak",
                    "transcribe"):
        assert caps.offers(command), command
    assert sandbox.hits[PROBE] == 1


async def test_an_html_page_for_the_probe_means_no_midjourney(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    scripted.on("GET /v1/models", json_reply({"data": [{"id": "gpt-4o"}, {"id": "dall-e-3"}]}))
    scripted.on(PROBE, raw_reply("<html>dashboard</html>", "text/html"))
    caps = await scripted_client.capabilities.get()
    assert caps.midjourney is False
    assert caps.offers("imagine")  # DALL·E can still draw
    assert caps.missing_reason("imagine") == (
        "This gateway has no Midjourney; /imagine engine:dalle works here"
    )
    assert caps.missing_reason("imagine", "dalle") is None
    assert not caps.offers("describe")


async def test_a_failed_probe_hides_nothing(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    scripted.on("GET /v1/models", raw_reply("<h1>502</h1>", "text/html", 502))
    scripted.on(PROBE, json_reply({"error": {"message": "upstream down"}}, 500))
    caps = await scripted_client.capabilities.get()
    assert caps.midjourney is None and caps.chat_models is None
    assert all(caps.offers(c) for c in ("ask", "imagine", "describe", "speak", "transcribe"))
    assert caps.lists("anything")
    assert any("upstream down" in p for p in caps.problems)


async def test_capabilities_are_probed_again_only_when_stale(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    scripted.on("GET /v1/models", json_reply({"data": [{"id": "gpt-4o"}]}))
    scripted.on(PROBE, json_reply([]))
    now = [0.0]
    watch = CapabilityWatch(scripted_client, max_age_s=600, clock=lambda: now[0])
    await watch.get()
    now[0] = 599
    await watch.get()
    assert scripted.hits["GET /v1/models"] == 1
    now[0] = 601
    await watch.get()
    assert scripted.hits["GET /v1/models"] == 2 and scripted.hits[PROBE] == 2


def test_models_are_sorted_by_kind_and_a_fallback_is_found() -> None:
    listed = [ModelInfo(id=i) for i in (
        "gpt-4o-mini", "llama3", "text-embedding-3-small", "bge-m3", "tts-1", "gpt-4o-mini-tts",
        "whisper-1", "gpt-4o-transcribe", "dall-e-3", "gpt-image-1", "flux-schnell",
        "text-moderation-latest", "mj_imagine", "swap_face")]
    caps = Capabilities.from_models(listed, midjourney=None)
    assert caps.chat_models == ("gpt-4o-mini", "llama3")
    assert caps.embedding_models == ("text-embedding-3-small", "bge-m3")
    assert caps.speech_models == ("tts-1", "gpt-4o-mini-tts")
    assert caps.transcription_models == ("whisper-1", "gpt-4o-transcribe")
    assert caps.image_models == ("dall-e-3", "gpt-image-1", "flux-schnell")
    assert caps.fallback_chat_model("gpt-4o-mini") == "gpt-4o-mini"
    assert caps.fallback_chat_model("gpt-5") == "gpt-4o-mini"
    assert Capabilities.from_models([], None).fallback_chat_model("gpt-5") is None


async def test_a_refresh_keeps_a_404_proven_absence_but_asks_midjourney_again(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    scripted.on("GET /v1/models", json_reply({"data": [{"id": "gpt-4o"}, {"id": "tts-1"}]}))
    scripted.on(PROBE, json_reply([]))
    scripted.on("POST /v1/audio/speech", json_reply({"detail": "Not Found"}, 404))
    scripted.on("POST /mj/submit/imagine", json_reply({"detail": "Not Found"}, 404))
    watch = scripted_client.capabilities
    await watch.get()
    for call in (scripted_client.speech("hi"), scripted_client.mj_imagine("a cat")):
        with pytest.raises(NotOffered):
            await call
    again = await watch.refresh()
    assert again.speech_models == ()  # tts-1 is listed, but its route answered 404
    assert again.midjourney is True  # the probe answers for Midjourney itself


async def test_keep_fresh_probes_in_the_background_until_cancelled(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    scripted.on("GET /v1/models", json_reply({"data": [{"id": "gpt-4o"}]}))
    scripted.on(PROBE, json_reply([]))
    watch = CapabilityWatch(scripted_client, max_age_s=0.01)
    task = asyncio.create_task(watch.keep_fresh())
    try:
        for _ in range(500):
            if scripted.hits["GET /v1/models"] >= 3:
                break
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert scripted.hits["GET /v1/models"] >= 3
    assert watch.current is not None and watch.current.chat_models == ("gpt-4o",)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (404, {"error": {"message": "The model `x` does not exist", "code": "model_not_found"}},
         ModelNotAvailable),  # OpenAI
        (404, {"object": "error", "message": "The model `x` does not exist.", "code": 404},
         ModelNotAvailable),  # vLLM
        (404, {"error": "model 'x' not found, try pulling it first"}, ModelNotAvailable),  # Ollama
        (400, {"error": {"message": "Invalid model name passed in model=x", "code": "400"}},
         ModelNotAvailable),  # LiteLLM
        (400, {"error": {"message": "The model gpt-4 does not support image input"}},
         InvalidRequest),
        (404, {"detail": "Not Found"}, NotOffered),  # FastAPI: no such route
        (404, {"error": {"message": "Invalid URL (POST /v1/audio/speech)"}}, NotOffered),
        (404, None, NotOffered),
        (400, {"description": "task_no_found ", "type": "upstream_error", "code": 4}, NotFound),
        (404, {"code": 3, "description": "关联任务不存在或已失效"}, NotFound),
    ],
)
def test_a_404_is_a_model_a_route_or_a_task_by_what_the_body_says(
    status: int, body: object, expected: type[Exception]
) -> None:
    err = error_from_body(status, body, httpx.Headers(), paid=False, redact=lambda t: t)
    assert type(err) is expected
