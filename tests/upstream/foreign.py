"""A minimal foreign-shaped gateway (a LiteLLM / vLLM-like proxy): only /v1/chat/completions
and /v1/models; every other path is FastAPI's 404 `{"detail": "Not Found"}`."""

from __future__ import annotations

import socket
from collections import Counter

from aiohttp import web

MODELS = ("llama-3.1-8b", "qwen2.5-7b-instruct")


class ForeignGateway:
    """Answers chat for its own models, refuses others the way LiteLLM does."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _models(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"object": "list", "data": [
            {"id": m, "object": "model", "created": 1, "owned_by": "local"} for m in MODELS]})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        model = body.get("model")
        if model not in MODELS:
            message = (f"Invalid model name passed in model={model}. Call `/v1/models` to view "
                       "available models for your key.")
            return web.json_response({"error": {"message": message, "type": "invalid_request_error",
                                                "param": "model", "code": "400"}}, status=400)
        text = "Hello from " + model
        return web.json_response({"id": "x", "object": "chat.completion", "model": model,
                                  "choices": [{"index": 0, "finish_reason": "stop",
                                               "message": {"role": "assistant", "content": text}}]})

    async def _any(self, request: web.Request) -> web.StreamResponse:
        self.hits[f"{request.method} {request.path}"] += 1
        if request.method == "GET" and request.path == "/v1/models":
            return await self._models(request)
        if request.method == "POST" and request.path == "/v1/chat/completions":
            return await self._chat(request)
        return web.json_response({"detail": "Not Found"}, status=404)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._any)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
