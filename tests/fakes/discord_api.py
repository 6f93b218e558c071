"""A fake Discord (REST + gateway) on loopback that a real `discord.Client` connects to.

It enforces what real Discord enforces and the libraries do not check (platforms.md 2.2, 2.4,
4.1): the 3-second acknowledgement (10062 after it), a second acknowledgement (40060), 2000
characters, 5x5 components, custom_id <= 100, per-route and global rate limits with Discord's
headers, the 15-minute interaction token; and it records every request and every message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes import discord_payloads as p
from tests.fakes.discord_bodies import FilePart, attachments_of, read_body
from tests.fakes.discord_rules import (
    RateLimits,
    error,
    mentions_pinged,
    message_problem,
    modal_problem,
)

ACK_WINDOW_S = 3.0
TOKEN_LIFE_S = 15 * 60.0
EPHEMERAL = 64
LOADING = 128


@dataclass
class Recorded:
    """One REST request: what came in and what the fake answered."""

    method: str
    path: str
    payload: dict[str, Any] | None
    files: list[FilePart]
    at: float
    status: int = 0


@dataclass
class Inter:
    """An interaction the fake sent, and what became of it."""

    payload: dict[str, Any]
    sent_at: float
    acked_at: float | None = None
    ack_type: int | None = None
    original_id: str | None = None
    modal: dict[str, Any] | None = None
    choices: list[dict[str, Any]] | None = None
    expired: bool = False
    late_acks: int = 0

    @property
    def token(self) -> str:
        return str(self.payload["token"])

    @property
    def channel_id(self) -> str:
        return str(self.payload["channel_id"])

    @property
    def ack_latency(self) -> float | None:
        return None if self.acked_at is None else self.acked_at - self.sent_at


@dataclass
class Fault:
    """An injected answer for the next request whose method and path match."""

    method: str
    path_pattern: str
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1


class FakeDiscord:
    """The server. `start()`, then point discord.py at `api_base` and `gateway_url`."""

    def __init__(self, *, rtt: float = 0.0, route_limit: tuple[int, float] | None = None,
                 global_per_second: int | None = None, channels: int = 4,
                 ack_window: float = ACK_WINDOW_S) -> None:
        self.rtt = rtt
        self.ack_window = ack_window
        self.limits = RateLimits(route_limit, global_per_second)
        self.channel_ids = [p.snowflake() for _ in range(channels)]
        self.requests: list[Recorded] = []
        self.messages: dict[str, dict[str, Any]] = {}
        self._by_channel: dict[str, list[str]] = {}  # channel id -> its message ids, in order
        self.deleted: set[str] = set()
        self.files: dict[str, list[FilePart]] = {}  # message id -> uploads it carried
        self.edits: dict[str, list[str]] = {}  # message id -> content after each edit
        self.interactions: dict[str, Inter] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}  # "global" or guild id -> commands
        self.cdn: dict[str, tuple[bytes, str]] = {}
        self.faults: list[Fault] = []
        self.pings: list[tuple[str, bool, list[str]]] = []  # (message id, everyone, users)
        self.typing: list[str] = []
        self.cdn_reads: list[str] = []
        # Wall-clock times of every visible change per channel, with the channel's text then
        # (for benchmarks that run the bot in another process).
        self.updates: dict[str, list[tuple[float, str]]] = {}
        self._sockets: list[web.WebSocketResponse] = []
        self._seq = 0
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/cdn/{name}", self._cdn)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        app.router.add_post("/_control/interact", self._control_interact)
        app.router.add_get("/_control/state", self._control_state)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def connections(self) -> int:
        """Clients identified on the gateway now."""
        return len(self._sockets)

    # --- what tests do --------------------------------------------------------------------------
    def add_file(self, name: str, data: bytes, content_type: str) -> str:
        """Serve bytes on the fake CDN; returns the URL an attachment points at."""
        self.cdn[name] = (data, content_type)
        return f"{self.url}/cdn/{name}"

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway event to every connected client."""
        self._seq += 1
        frame = json.dumps({"op": 0, "t": event, "s": self._seq, "d": data})
        for ws in list(self._sockets):
            with contextlib.suppress(ConnectionResetError):
                await ws.send_str(frame)

    async def post_message(self, channel_id: str, author_id: str, content: str, *,
                           guild: bool = True, **extra: Any) -> dict[str, Any]:
        """A user's message arriving over the gateway (MESSAGE_CREATE)."""
        msg = p.message(channel_id, content, author=p.user(author_id), **extra)
        if guild:
            msg["guild_id"] = p.GUILD_ID
            msg["member"] = {k: v for k, v in p.member(author_id).items() if k != "user"}
        if f"<@{p.APP_ID}>" in content:
            msg["mentions"] = [p.BOT_USER]
        self.messages[msg["id"]] = msg
        self._by_channel.setdefault(channel_id, []).append(msg["id"])
        await self.dispatch("MESSAGE_CREATE", msg)
        return msg

    async def interact(self, payload: dict[str, Any]) -> Inter:
        """Send an INTERACTION_CREATE; the 3-second window starts now."""
        inter = Inter(payload, asyncio.get_running_loop().time())
        self.interactions[inter.token] = inter
        await self.dispatch("INTERACTION_CREATE", payload)
        return inter

    def fail_next(self, method: str, path_pattern: str, status: int, body: dict[str, Any],
                  headers: dict[str, str] | None = None, times: int = 1) -> None:
        self.faults.append(Fault(method, path_pattern, status, body, headers or {}, times))

    def expire(self, inter: Inter) -> None:
        """Make the interaction's token dead, as 15 minutes later."""
        inter.expired = True

    async def wait_for(self, predicate: Callable[[], object], bound: float = 10.0) -> None:
        """Wait until `predicate()` holds; re-checked on every request the fake answers."""
        async with asyncio.timeout(bound), self._changed:
            await self._changed.wait_for(lambda: bool(predicate()))

    def channel_messages(self, channel_id: str) -> list[dict[str, Any]]:
        """Messages now visible in a channel, oldest first."""
        return [self.messages[i] for i in self._by_channel.get(channel_id, [])
                if i not in self.deleted]

    def original(self, inter: Inter) -> dict[str, Any] | None:
        return None if inter.original_id is None else self.messages.get(inter.original_id)

    def message_requests(self) -> list[Recorded]:
        """Requests that create or edit a message (where allowed_mentions matters)."""
        return [r for r in self.requests if r.method in ("POST", "PATCH") and (
            "/messages" in r.path or re.search(r"/webhooks/\d+/[^/]+$", r.path)
            or r.path.endswith("/callback"))]

    # --- control (for a driver in another process) ---------------------------------------------
    async def _control_interact(self, request: web.Request) -> web.Response:
        """POST a list of interaction payloads: sent over the gateway one after another."""
        tokens = [(await self.interact(payload)).token for payload in await request.json()]
        return web.json_response({"tokens": tokens})

    async def _control_state(self, request: web.Request) -> web.Response:
        loop_now, wall_now = asyncio.get_running_loop().time(), time.time()
        return web.json_response({
            "interactions": [{
                "channel": i.channel_id, "latency": i.ack_latency, "late": i.late_acks,
                "sent_at": wall_now - (loop_now - i.sent_at)} for i in self.interactions.values()],
            "updates": self.updates, "route_429s": self.limits.route_429s,
            "global_429s": self.limits.global_429s, "requests": len(self.requests),
            "channels": self.channel_ids, "commands": self.commands.get("global", [])})

    def _visible_changed(self, channel_id: str) -> None:
        text = "\n".join(m["content"] for m in self.channel_messages(channel_id)
                         if not int(m.get("flags") or 0) & EPHEMERAL)
        self.updates.setdefault(channel_id, []).append((time.time(), text))

    # --- gateway --------------------------------------------------------------------------------
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            if frame["op"] == 1:
                await ws.send_str(json.dumps({"op": 11}))
            elif frame["op"] == 2:
                self._sockets.append(ws)
                await self.dispatch("READY", {
                    "v": 10, "user": p.BOT_USER, "session_id": "s", "resume_gateway_url":
                    self.gateway_url, "guilds": [{"id": p.GUILD_ID, "unavailable": True}],
                    "application": {"id": p.APP_ID, "flags": 0}, "private_channels": []})
                await self.dispatch("GUILD_CREATE", p.guild(self.channel_ids))
                await self._notify()
        if ws in self._sockets:
            self._sockets.remove(ws)
        await self._notify()
        return ws

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _cdn(self, request: web.Request) -> web.Response:
        self.cdn_reads.append(request.match_info["name"])
        data, ctype = self.cdn.get(request.match_info["name"], (b"", ""))
        if not ctype:
            return web.Response(status=404)
        return web.Response(body=data, headers={"Content-Type": ctype})

    # --- REST -----------------------------------------------------------------------------------
    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        payload, files = await read_body(request)
        loop = asyncio.get_running_loop()
        record = Recorded(request.method, path, payload, files, loop.time())
        self.requests.append(record)
        if self.rtt:
            await asyncio.sleep(self.rtt / 2)
        status, body, headers = self._limited(request.method, path, loop.time())
        if status == 0:
            status, body = self._route(request.method, path, payload or {}, files,
                                       request.query)
        record.status = status
        if self.rtt:
            await asyncio.sleep(self.rtt / 2)
        await self._notify()
        if status == 204:
            return web.Response(status=204, headers=headers)
        headers["Content-Type"] = "application/json"  # exactly: discord.py parses nothing else
        return web.Response(status=status, body=json.dumps(body).encode(), headers=headers)

    def _limited(self, method: str, path: str, now: float
                 ) -> tuple[int, Any, dict[str, str]]:
        for fault in self.faults:
            if fault.method == method and re.search(fault.path_pattern, path):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault.status, fault.body, dict(fault.headers)
        interaction_route = path.startswith(("/interactions/", "/webhooks/"))
        key = None
        if m := re.match(r"/channels/(\d+)/messages", path):
            key = f"channel:{m.group(1)}"
        elif m := re.match(r"/webhooks/\d+/([^/]+)", path):
            key = f"webhook:{m.group(1)}"
        wait, is_global, headers = self.limits.check(key, now, global_bound=not interaction_route)
        if wait <= 0:
            return 0, None, headers
        headers.update({"Retry-After": f"{wait:.3f}", "Via": "1.1 google"})
        return 429, {"message": "You are being rate limited.", "retry_after": round(wait, 3),
                     "global": is_global}, headers

    def _route(self, method: str, path: str, body: dict[str, Any], files: list[FilePart],
               query: Any) -> tuple[int, Any]:
        if path == "/users/@me":
            return 200, p.BOT_USER
        if path == "/oauth2/applications/@me":
            return 200, p.application()
        if path in ("/gateway", "/gateway/bot"):
            return 200, {"url": self.gateway_url, "shards": 1, "session_start_limit": {
                "total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}}
        if m := re.fullmatch(r"/applications/\d+(?:/guilds/(\d+))?/commands", path):
            scope = m.group(1) or "global"
            if method == "PUT":
                listed = body if isinstance(body, list) else []
                self.commands[scope] = [{"description": "", **c, "id": p.snowflake(),
                                         "application_id": p.APP_ID,
                                         "version": "1", "type": c.get("type", 1)}
                                        for c in listed]
            return 200, self.commands.get(scope, [])
        if m := re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", path):
            return self._callback(m.group(2), body, files, query)
        if m := re.fullmatch(r"/webhooks/\d+/([^/]+)(?:/messages/([^/]+))?", path):
            return self._webhook(method, m.group(1), m.group(2), body, files)
        if m := re.fullmatch(r"/channels/(\d+)/typing", path):
            self.typing.append(m.group(1))
            return 204, None
        if m := re.fullmatch(r"/channels/(\d+)/messages(?:/(\d+))?", path):
            return self._channel_message(method, m.group(1), m.group(2), body, files)
        return 404, error(0, f"404: Not Found {method} {path}")

    def _callback(self, token: str, body: dict[str, Any], files: list[FilePart],
                  query: Any) -> tuple[int, Any]:
        inter = self.interactions.get(token)
        now = asyncio.get_running_loop().time()
        if inter is None or now - inter.sent_at > self.ack_window:
            if inter is not None:
                inter.late_acks += 1
            return 404, error(10062, "Unknown interaction")
        if inter.acked_at is not None:
            return 400, error(40060, "Interaction has already been acknowledged.")
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        message_id: str | None = None
        if kind == 9 and (problem := modal_problem(data)):
            return 400, error(50035, problem)
        if kind in (4, 7) and (problem := message_problem(data, has_files=bool(files),
                                                            editing=kind == 7)):
            return 400, error(50035, problem)
        inter.acked_at, inter.ack_type = now, kind
        if kind in (4, 5):
            flags = int(data.get("flags") or 0) | (LOADING if kind == 5 else 0)
            msg = self._store(p.message(inter.channel_id, data.get("content") or "",
                                        flags=flags, webhook_id=p.APP_ID,
                                        components=data.get("components") or []), data, files)
            inter.original_id = message_id = msg["id"]
        elif kind == 7 and "message" in inter.payload:
            message_id = str(inter.payload["message"]["id"])
            self._edit(message_id, data, files)
        elif kind == 9:
            inter.modal = data
        elif kind == 8:
            inter.choices = list(data.get("choices") or [])
        if "with_response" not in query:
            return 204, None
        result: dict[str, Any] = {"interaction": {
            "id": inter.payload["id"], "type": inter.payload["type"],
            "response_message_id": message_id, "response_message_loading": kind == 5,
            "response_message_ephemeral": bool(int(data.get("flags") or 0) & EPHEMERAL)}}
        if message_id is not None:
            result["resource"] = {"type": kind, "message": self.messages[message_id]}
        return 200, result

    def _webhook(self, method: str, token: str, message_id: str | None, body: dict[str, Any],
                 files: list[FilePart]) -> tuple[int, Any]:
        inter = self.interactions.get(token)
        if inter is None or inter.expired or inter.acked_at is None:
            return 401 if inter is not None else 404, error(50027, "Invalid Webhook Token")
        if message_id is None:
            if method != "POST":
                return 405, error(0, "405: Method Not Allowed")
            if problem := message_problem(body, has_files=bool(files), editing=False):
                return 400, error(50035 if "Must" in problem else 50006, problem)
            msg = self._store(p.message(inter.channel_id, body.get("content") or "",
                                        webhook_id=p.APP_ID, flags=int(body.get("flags") or 0),
                                        components=body.get("components") or []), body, files)
            return 200, msg
        target = inter.original_id if message_id == "@original" else message_id
        if target is None or target not in self.messages or target in self.deleted:
            return 404, error(10008, "Unknown Message")
        if method == "GET":
            return 200, self.messages[target]
        if method == "DELETE":
            self.deleted.add(target)
            return 204, None
        if problem := message_problem(body, has_files=bool(files), editing=True):
            return 400, error(50035, problem)
        return 200, self._edit(target, body, files)

    def _channel_message(self, method: str, channel_id: str, message_id: str | None,
                         body: dict[str, Any], files: list[FilePart]) -> tuple[int, Any]:
        if message_id is None:
            if problem := message_problem(body, has_files=bool(files), editing=False):
                return 400, error(50035 if "Must" in problem else 50006, problem)
            extra: dict[str, Any] = {"flags": int(body.get("flags") or 0),
                                     "components": body.get("components") or []}
            if ref := body.get("message_reference"):
                extra["message_reference"] = ref
            return 200, self._store(p.message(channel_id, body.get("content") or "", **extra),
                                    body, files)
        if message_id not in self.messages or message_id in self.deleted:
            return 404, error(10008, "Unknown Message")
        if method == "DELETE":
            self.deleted.add(message_id)
            return 204, None
        if method == "GET":
            return 200, self.messages[message_id]
        if problem := message_problem(body, has_files=bool(files), editing=True):
            return 400, error(50035, problem)
        return 200, self._edit(message_id, body, files)

    # --- messages -------------------------------------------------------------------------------
    def _store(self, msg: dict[str, Any], body: dict[str, Any], files: list[FilePart]
               ) -> dict[str, Any]:
        msg["content"] = msg["content"].strip()  # as Discord trims it
        msg["attachments"] = attachments_of(body, files, msg["channel_id"])
        self.files[msg["id"]] = list(files)
        self._resolve_mentions(msg, body)
        self.messages[msg["id"]] = msg
        self._by_channel.setdefault(msg["channel_id"], []).append(msg["id"])
        self._visible_changed(msg["channel_id"])
        return msg

    def _edit(self, message_id: str, body: dict[str, Any], files: list[FilePart]
              ) -> dict[str, Any]:
        msg = self.messages[message_id]
        if "content" in body:
            msg["content"] = (body["content"] or "").strip()
        if "components" in body:
            msg["components"] = body["components"] or []
        if files or "attachments" in body:
            kept = {str(a.get("id")) for a in body.get("attachments") or []}
            old = [a for a in msg["attachments"] if str(a["id"]) in kept]
            msg["attachments"] = old + attachments_of(body, files, msg["channel_id"])
            self.files[message_id] = [*self.files.get(message_id, []), *files]
        msg["flags"] = int(msg.get("flags") or 0) & ~LOADING
        msg["edited_timestamp"] = p.now_iso()
        self._resolve_mentions(msg, body)
        self.edits.setdefault(message_id, []).append(msg["content"])
        self._visible_changed(msg["channel_id"])
        return msg

    def _resolve_mentions(self, msg: dict[str, Any], body: dict[str, Any]) -> None:
        everyone, users = mentions_pinged(msg["content"], body.get("allowed_mentions"))
        msg["mention_everyone"] = everyone
        msg["mentions"] = [p.user(u) for u in users]
        if everyone or users:
            self.pings.append((msg["id"], everyone, users))
