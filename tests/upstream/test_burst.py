"""A burst of calls queues in the client, not in the HTTP pool, and polls never wait behind it."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.upstream import UpstreamClient
from tests.upstream.conftest import FAST_RETRY, KEY
from tests.upstream.scripted import ScriptedServer

TASK = {"id": "1730621826053455", "status": "IN_PROGRESS", "progress": "46%"}


async def test_a_burst_keeps_at_most_max_in_flight_calls_and_a_poll_skips_the_queue(
    scripted: ScriptedServer,
) -> None:
    gate = asyncio.Event()
    both_held = asyncio.Event()
    at_server = 0
    most = 0

    async def held_fetch(request: web.Request) -> web.StreamResponse:
        nonlocal at_server, most
        at_server += 1
        most = max(most, at_server)
        if at_server == 2:
            both_held.set()
        await gate.wait()
        at_server -= 1
        return web.json_response(TASK)

    async def poll(request: web.Request) -> web.StreamResponse:
        return web.json_response([TASK])

    scripted.on(f"GET /mj/task/{TASK['id']}/fetch", held_fetch)
    scripted.on("POST /mj/task/list-by-condition", poll)
    async with UpstreamClient(scripted.url, KEY, retry=FAST_RETRY, max_in_flight=2) as client:
        fetches = [asyncio.create_task(client.mj_fetch(TASK["id"])) for _ in range(6)]
        await asyncio.wait_for(both_held.wait(), 5)
        # Two fetches hold both places; the tracker's poll still gets through at once.
        tasks = await asyncio.wait_for(client.mj_list([TASK["id"]]), 5)
        assert [t.progress for t in tasks] == ["46%"]
        assert not any(f.done() for f in fetches)
        gate.set()
        done = await asyncio.gather(*fetches)
    assert [t.status for t in done] == ["IN_PROGRESS"] * 6
    assert most == 2


async def test_an_urgent_download_skips_the_queue_and_a_plain_one_waits(
    scripted: ScriptedServer,
) -> None:
    gate = asyncio.Event()
    held = asyncio.Event()

    async def held_fetch(request: web.Request) -> web.StreamResponse:
        held.set()
        await gate.wait()
        return web.json_response(TASK)

    async def image(request: web.Request) -> web.StreamResponse:
        return web.Response(body=b"\x89PNG\r\n\x1a\nfinal", content_type="image/png")

    scripted.on(f"GET /mj/task/{TASK['id']}/fetch", held_fetch)
    scripted.on("GET /mj/image/1", image)
    async with UpstreamClient(scripted.url, KEY, retry=FAST_RETRY, max_in_flight=1) as client:
        fetch = asyncio.create_task(client.mj_fetch(TASK["id"]))
        await asyncio.wait_for(held.wait(), 5)
        plain = asyncio.create_task(client.download("/mj/image/1"))
        # A finished result someone waits for goes ahead of the busy queue...
        got = await asyncio.wait_for(client.download("/mj/image/1", urgent=True), 5)
        assert got.data.endswith(b"final")
        # ...while a plain download still waits for its place.
        assert not plain.done()
        gate.set()
        await asyncio.gather(fetch, plain)
    assert scripted.hits["GET /mj/image/1"] == 2


async def test_long_generations_do_not_hold_up_midjourney_submits(
    scripted: ScriptedServer,
) -> None:
    gate = asyncio.Event()
    generating = 0
    all_generating = asyncio.Event()

    async def slow(request: web.Request) -> web.StreamResponse:
        nonlocal generating
        generating += 1
        if generating == 3:
            all_generating.set()
        await gate.wait()
        if request.path == "/v1/images/generations":
            return web.json_response({"created": 1, "data": [{"url": "http://x/1.png"}]})
        if request.path == "/v1/audio/speech":
            return web.Response(body=b"OggS voice", content_type="audio/ogg")
        return web.json_response({"text": "hello"})

    async def imagine(request: web.Request) -> web.StreamResponse:
        return web.json_response({"code": 1, "description": "提交成功", "result": TASK["id"]})

    scripted.on("POST /v1/images/generations", slow)
    scripted.on("POST /v1/audio/speech", slow)
    scripted.on("POST /v1/audio/transcriptions", slow)
    scripted.on("POST /mj/submit/imagine", imagine)
    async with UpstreamClient(scripted.url, KEY, retry=FAST_RETRY, max_in_flight=1) as client:
        # DALL·E, speech and a transcription all run at once though one quick call fits...
        slow_calls = [
            asyncio.create_task(client.create_image("a cat")),
            asyncio.create_task(client.speech("hello")),
            asyncio.create_task(client.transcribe(b"OggS", "voice.ogg")),
        ]
        await asyncio.wait_for(all_generating.wait(), 5)
        try:
            # ...and a Midjourney submit does not wait for any of them.
            submitted = await asyncio.wait_for(client.mj_imagine("a dog"), 5)
            assert submitted.task_id == TASK["id"]
            assert not any(call.done() for call in slow_calls)
        finally:
            gate.set()
        image, voice, transcript = await asyncio.gather(*slow_calls)
    assert image[0].url == "http://x/1.png" and voice == b"OggS voice"
    assert transcript.text == "hello"
