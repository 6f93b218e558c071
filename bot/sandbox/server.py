"""SandboxServer: the aiohttp application, its middleware (ids, hits, auth, faults) and routes."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web

from bot.sandbox import (
    audio_routes,
    chat,
    embeddings,
    image_routes,
    mj_actions,
    mj_images,
    mj_query,
    mj_submit,
    models,
)
from bot.sandbox.auth import check
from bot.sandbox.clock import SimClock
from bot.sandbox.context import RequestInfo, attach, info_of
from bot.sandbox.errors import (
    BAD_GATEWAY_HTML,
    REQUEST_ID_HEADER,
    dashboard_page,
    json_response,
    new_request_id,
    openai_error,
)
from bot.sandbox.faults import (
    FAULT_HEADER,
    TOKENS_HEADER,
    TPS_HEADER,
    Fault,
    find_markers,
    header_float,
    header_int,
    marker_text,
    parse_fault,
)
from bot.sandbox.files import FILES_PATH
from bot.sandbox.mj_tasks import TaskStore
from bot.sandbox.state import STATE, SandboxState, state_of

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MJ_PREFIXES = ("", "/mj-fast", "/mj-relax", "/mj-turbo")
MAX_BODY = 64 * 2**20
SATURATED = "当前分组上游负载已饱和，请稍后再试"
MJ_SATURATED = "当前分组负载已饱和，请稍后再试，或升级账户以提升服务质量。"


def _is_mj(path: str) -> bool:
    return path.startswith("/mj")


def _is_public(path: str) -> bool:
    return "/mj/image/" in path or path.startswith(FILES_PATH + "/")


def _is_billable(path: str) -> bool:
    if path.startswith("/v1/"):
        return not path.startswith("/v1/models")
    return "/mj/submit/" in path or "/mj/insight-face/" in path


def _not_routed(request: web.Request) -> web.Response:
    """new-api's NoRoute: JSON 404 under /v1, /api, /assets; the dashboard HTML elsewhere."""
    path = request.path
    if path.startswith(("/v1", "/api", "/assets")):
        return openai_error(info_of(request).request_id, 404,
                            f"Invalid URL ({request.method} {path})", type_="invalid_request_error")
    return dashboard_page()


def _fault_response(request: web.Request, fault: Fault) -> web.StreamResponse | None:
    """Faults answered before the handler runs."""
    info = info_of(request)
    path = request.path
    if fault.name == "429":
        headers = {"Retry-After": "1"}
        if _is_mj(path):
            body = {"description": MJ_SATURATED, "type": "upstream_error", "code": 30}
            return json_response(body, status=429, headers=headers)
        return openai_error(info.request_id, 429, SATURATED, headers=headers)
    if fault.name == "500":
        if _is_mj(path):
            body = {"description": "do_request_failed ", "type": "upstream_error", "code": 5}
            return json_response(body, status=500)
        return openai_error(info.request_id, 500, "do request failed: sandbox fault",
                            code="do_request_failed")
    if fault.name == "502":
        return web.Response(status=502, text=BAD_GATEWAY_HTML, content_type="text/html")
    if fault.name == "quota" and _is_billable(path):
        if _is_mj(path):
            body = {"description": "quota_not_enough ", "type": "upstream_error", "code": 4}
            return json_response(body, status=400)
        return openai_error(info.request_id, 403, "user quota is not enough",
                            code="insufficient_user_quota")
    return None


async def _cut_response(request: web.Request, response: web.Response) -> web.StreamResponse:
    """Send the headers and half the body, then drop the connection."""
    body = response.body if isinstance(response.body, bytes) else b""
    stream = web.StreamResponse(status=response.status, headers=response.headers)
    stream.content_length = len(body)
    await stream.prepare(request)
    await stream.write(body[: len(body) // 2])
    if request.transport is not None:
        request.transport.close()
    return stream


def _corrupt(response: web.Response) -> web.Response:
    body = response.body if isinstance(response.body, bytes) else b""
    broken = body[: max(1, len(body) // 2)] + b'"\x00,,}'
    return web.Response(status=response.status, body=broken, content_type="application/json")


async def _request_faults(request: web.Request, global_faults: list[Fault]) -> list[Fault]:
    """Header first, then a body marker, then the faults set for all requests."""
    header = request.headers.get(FAULT_HEADER)
    if header:
        return [parse_fault(header)]
    info = info_of(request)
    if request.can_read_body and request.content_type == "application/json":
        try:
            body = json.loads(await request.text())
        except ValueError:
            body = None
        markers = find_markers(marker_text(body))
        if info.tokens is None:
            info.tokens = markers.tokens
        if info.tps is None:
            info.tps = markers.tps
        if markers.fault is not None:
            return [markers.fault]
    return list(global_faults)


@web.middleware
async def _gateway_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = state_of(request)
    match = request.match_info
    routed = match.http_exception is None and match.route.resource is not None
    resource = match.route.resource
    template = resource.canonical if routed and resource is not None else request.path
    state.hits[f"{request.method} {template}"] += 1
    info = RequestInfo(request_id=new_request_id(), base_url=f"{request.scheme}://{request.host}",
                       tokens=header_int(request.headers.get(TOKENS_HEADER)),
                       tps=header_float(request.headers.get(TPS_HEADER)))
    attach(request, info)
    if not routed:
        return _not_routed(request)
    try:
        faults = await _request_faults(request, state.global_faults)
    except ValueError as exc:
        return openai_error(info.request_id, 400, str(exc), type_="sandbox_error")
    for fault in faults:
        if fault.name == "latency":
            await asyncio.sleep(fault.seconds)
        elif info.fault is None:
            info.fault = fault
    if not _is_public(request.path):
        owner, problem = check(request)
        if owner is None:
            return openai_error(info.request_id, 401, problem)
        info.owner = owner
    if info.fault is not None:
        early = _fault_response(request, info.fault)
        if early is not None:
            return early
    response = await handler(request)
    if isinstance(response, web.Response) and not response.prepared and info.fault is not None:
        if info.fault.name == "badjson" and response.content_type == "application/json":
            return _corrupt(response)
        if info.fault.name == "cut":
            return await _cut_response(request, response)
    return response


async def _add_request_id(request: web.Request, response: web.StreamResponse) -> None:
    try:
        response.headers[REQUEST_ID_HEADER] = info_of(request).request_id
    except KeyError:
        response.headers[REQUEST_ID_HEADER] = new_request_id()


def build_app(state: SandboxState) -> web.Application:
    """The application with every routed endpoint of the contract."""
    app = web.Application(middlewares=[_gateway_middleware], client_max_size=MAX_BODY)
    app[STATE] = state
    app.on_response_prepare.append(_add_request_id)
    routes: list[tuple[str, str, Handler]] = [
        ("GET", "/v1/models", models.list_models),
        ("GET", "/v1/models/{model}", models.retrieve_model),
        ("POST", "/v1/chat/completions", chat.chat_completions),
        ("POST", "/v1/completions", chat.completions),
        ("POST", "/v1/embeddings", embeddings.embeddings),
        ("POST", "/v1/images/generations", image_routes.generations),
        ("POST", "/v1/audio/transcriptions", audio_routes.transcriptions),
        ("POST", "/v1/audio/translations", audio_routes.translations),
        ("POST", "/v1/audio/speech", audio_routes.speech),
        ("GET", FILES_PATH + "/{name}", _serve_file),
    ]
    for path in ("/v1/files", "/v1/fine-tunes", "/v1/assistants", "/v1/threads", "/v1/batches"):
        routes.append(("*", path, _not_implemented))
    mj: list[tuple[str, str, Handler]] = [
        ("POST", "/mj/submit/imagine", mj_submit.imagine),
        ("POST", "/mj/submit/action", mj_actions.action),
        ("POST", "/mj/submit/modal", mj_actions.modal),
        ("POST", "/mj/submit/change", mj_actions.change),
        ("POST", "/mj/submit/simple-change", mj_actions.simple_change),
        ("POST", "/mj/submit/blend", mj_submit.blend),
        ("POST", "/mj/submit/describe", mj_submit.describe),
        ("POST", "/mj/submit/shorten", mj_submit.shorten),
        ("POST", "/mj/insight-face/swap", mj_submit.swap_face),
        ("GET", "/mj/task/{id}/fetch", mj_query.fetch),
        ("POST", "/mj/task/list-by-condition", mj_query.list_by_condition),
        ("GET", "/mj/task/{id}/image-seed", mj_query.image_seed),
        ("GET", "/mj/image/{id}", mj_images.mj_image),
    ]
    for prefix in MJ_PREFIXES:
        routes += [(method, prefix + path, handler) for method, path, handler in mj]
    for method, path, handler in routes:
        app.router.add_route(method, path, handler)
    return app


async def _serve_file(request: web.Request) -> web.Response:
    return await state_of(request).files.handle(request)


async def _not_implemented(request: web.Request) -> web.Response:
    return openai_error(info_of(request).request_id, 501, "API not implemented",
                        code="api_not_implemented")


class SandboxServer:
    """The offline gateway on a real loopback port; `speed` divides every simulated delay."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, speed: float = 1.0,
                 faults: Iterable[str] = (), *, access_log: bool = False) -> None:
        self.host = host
        self.port = port
        self.state = SandboxState(clock=(clock := SimClock(speed)), tasks=TaskStore(clock))
        self.state.global_faults = [parse_fault(name) for name in faults]
        self._access_log = access_log
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:54321 (known once started)."""
        return f"http://{self.host}:{self.port}"

    @property
    def hits(self) -> Counter[str]:
        """Requests received, by "METHOD /route/template"."""
        return self.state.hits

    @property
    def speed(self) -> float:
        """The factor dividing every simulated delay."""
        return self.state.clock.speed

    def set_fault(self, name: str | None) -> None:
        """Apply `name` (or `name=arg`) to every request from now on; None clears it."""
        self.state.global_faults = [] if name is None else [parse_fault(name)]

    def advance(self, seconds: float) -> None:
        """Move scenario time forward, e.g. past the gateway's 1-hour MJ deadline."""
        self.state.clock.advance(seconds)

    async def start(self) -> None:
        """Bind and serve; with port 0 the chosen port is in `.port` / `.url` afterwards."""
        app = build_app(self.state)
        kwargs: dict[str, Any] = {} if self._access_log else {"access_log": None}
        # A client that gave up (timeouts under the latency fault) must not keep its handler
        # sleeping, or stop() would wait for it.
        self._runner = web.AppRunner(app, handle_signals=False, handler_cancellation=True,
                                     shutdown_timeout=2.0, **kwargs)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:
            self.port = int(self._runner.addresses[0][1])
        log.info("sandbox gateway listening on %s (speed %s)", self.url, self.speed)

    async def stop(self) -> None:
        """Close the listener and every open connection."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SandboxServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
