"""A tiny aiohttp server on 127.0.0.1:0 answering from a script: replies the sandbox never gives."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Reply = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    """A JSON answer (body serialised as given)."""

    async def reply(request: web.Request) -> web.StreamResponse:
        return web.json_response(body, status=status, headers=headers)

    return reply


def raw_reply(text: str, content_type: str, status: int = 200) -> Reply:
    """Any body with any content type (HTML pages, broken JSON, plain text)."""

    async def reply(request: web.Request) -> web.StreamResponse:
        return web.Response(text=text, status=status, content_type=content_type)

    return reply


def sse_reply(*events: str) -> Reply:
    """An event stream sending `events` as given (each a full `data: ...` line)."""
    return raw_reply("".join(f"{e}\n\n" for e in events), "text/event-stream")


def stalled_sse(seconds: float) -> Reply:
    """Event-stream headers at once, then silence for `seconds` before the body ends."""

    async def reply(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_type = "text/event-stream"
        await response.prepare(request)
        await asyncio.sleep(seconds)
        return response

    return reply


@dataclass
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class ScriptedServer:
    """Answers each "METHOD /path" with its queued replies in turn; the last one repeats."""

    script: dict[str, list[Reply]] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    received: list[Received] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    def on(self, route: str, *replies: Reply) -> None:
        self.script[route] = list(replies)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        route = f"{request.method} {request.path}"
        self.hits[route] += 1
        self.received.append(
            Received(request.method, request.path, dict(request.headers), await request.read())
        )
        replies = self.script.get(route)
        if not replies:
            return web.json_response({"error": {"message": f"no script for {route}"}}, status=404)
        return await (replies.pop(0) if len(replies) > 1 else replies[0])(request)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def cut_body(head: bytes, declared: int, content_type: str = "image/png") -> Reply:
    """A 200 promising `declared` bytes that sends `head` and then drops the connection."""

    async def reply(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": str(declared)})
        response.content_type = content_type
        await response.prepare(request)
        await response.write(head)
        if request.transport is not None:
            request.transport.close()
        return response

    return reply


def bytes_reply(body: bytes, content_type: str) -> Reply:
    """A binary body (an image) as it is."""

    async def reply(request: web.Request) -> web.StreamResponse:
        return web.Response(body=body, content_type=content_type)

    return reply
