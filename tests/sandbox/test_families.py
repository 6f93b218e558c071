"""A sandbox serving only some route families plays a gateway that offers part of the API."""

from __future__ import annotations

import httpx
import pytest

from bot.cli import build_parser
from bot.sandbox.families import NGINX_NOT_FOUND_HTML
from bot.sandbox.server import SandboxServer
from tests.contract.conftest import ALICE, client_for

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
# One call per family, each valid for a full gateway.
CALLS: dict[str, tuple[str, dict[str, object]]] = {
    "chat": ("/v1/chat/completions", CHAT),
    "images": ("/v1/images/generations", {"model": "dall-e-3", "prompt": "a fox"}),
    "audio": ("/v1/audio/speech", {"model": "tts-1", "input": "hi", "voice": "alloy"}),
    "embeddings": ("/v1/embeddings", {"model": "text-embedding-3-small", "input": "hi"}),
    "mj": ("/mj/submit/imagine", {"prompt": "a fox"}),
}


async def _models(http: httpx.AsyncClient) -> set[str]:
    return {m["id"] for m in (await http.get("/v1/models")).json()["data"]}


async def test_a_chat_only_gateway_lists_chat_models_and_answers_the_rest_404_json() -> None:
    async with SandboxServer(speed=200.0, families=["chat"]) as server, \
            client_for(server, ALICE) as http:
        assert server.families == {"chat"}
        models = await _models(http)
        assert "gpt-4o-mini" in models
        assert not models & {"dall-e-3", "whisper-1", "tts-1", "text-embedding-3-small",
                             "mj_imagine", "swap_face"}
        path, body = CALLS["chat"]
        assert (await http.post(path, json=body)).status_code == 200
        for family in ("images", "audio", "embeddings", "mj"):
            path, body = CALLS[family]
            answer = await http.post(path, json=body)
            # LiteLLM and vLLM (FastAPI) answer a route they do not have so.
            assert answer.status_code == 404, family
            assert answer.headers["content-type"].startswith("application/json")
            assert answer.json() == {"detail": "Not Found"}
        # The cheap, unpaid probe for Midjourney (list-by-condition with no ids) says "none".
        probe = await http.post("/mj/task/list-by-condition", json={"ids": []})
        assert probe.status_code == 404
        for prefix in ("/mj-fast", "/mj-relax"):
            assert (await http.get(f"{prefix}/mj/task/1/fetch")).status_code == 404
        # A model of a family it lacks is unknown, in one-api's HTTP 200 shape.
        unknown = await http.get("/v1/models/dall-e-3")
        assert unknown.status_code == 200 and unknown.json()["error"]["code"] == "model_not_found"


async def test_absent_routes_can_answer_an_nginx_404_page_instead() -> None:
    async with SandboxServer(speed=200.0, families=["chat", "images"], absent="html") as server, \
            client_for(server, ALICE) as http:
        for family in ("audio", "embeddings", "mj"):
            path, body = CALLS[family]
            answer = await http.post(path, json=body)
            assert answer.status_code == 404, family
            assert answer.headers["content-type"].startswith("text/html")
            assert answer.text == NGINX_NOT_FOUND_HTML
        path, body = CALLS["images"]
        drawn = await http.post(path, json=body)
        assert drawn.status_code == 200 and drawn.json()["data"][0]["url"]


async def test_a_gateway_without_a_midjourney_channel_still_does_everything_else() -> None:
    served = ["chat", "images", "audio", "embeddings"]
    async with SandboxServer(speed=200.0, families=served) as server, \
            client_for(server, ALICE) as http:
        for family in served:
            path, body = CALLS[family]
            assert (await http.post(path, json=body)).status_code == 200, family
        path, body = CALLS["mj"]
        assert (await http.post(path, json=body)).status_code == 404
        assert {"dall-e-3", "whisper-1", "tts-1"} <= await _models(http)
        assert not {m for m in await _models(http) if m.startswith("mj_")}
    assert server.hits["POST /mj/submit/imagine"] == 1


async def test_by_default_every_family_is_served_and_unknown_paths_are_new_apis(
        sandbox: SandboxServer) -> None:
    async with client_for(sandbox, ALICE) as http:
        probe = await http.post("/mj/task/list-by-condition", json={"ids": []})
        assert probe.status_code == 200 and probe.json() == []
        for family in CALLS:
            path, body = CALLS[family]
            assert (await http.post(path, json=body)).status_code == 200, family
        # new-api's NoRoute: the dashboard page for an unknown non-/v1 path.
        queue = await http.get("/mj/task/queue")
        assert queue.status_code == 200 and queue.headers["content-type"].startswith("text/html")
        assert {"mj_imagine", "dall-e-3", "whisper-1", "text-embedding-3-small",
                "gpt-4o"} <= await _models(http)
    assert sandbox.families == {"chat", "images", "audio", "embeddings", "mj"}


def test_unknown_families_and_styles_are_refused() -> None:
    with pytest.raises(ValueError, match="video"):
        SandboxServer(families=["chat", "video"])
    with pytest.raises(ValueError):
        SandboxServer(families=[])
    with pytest.raises(ValueError):
        SandboxServer(absent="xml")  # type: ignore[arg-type]
    parser = build_parser()
    args = parser.parse_args(["sandbox", "--families", "chat, MJ", "--absent", "html"])
    assert (args.families, args.absent) == (frozenset({"chat", "mj"}), "html")
    assert parser.parse_args(["sandbox"]).families is None
    with pytest.raises(SystemExit):
        parser.parse_args(["sandbox", "--families", "chat,video"])
