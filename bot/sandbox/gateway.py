"""The gateway layer every request passes: hits, request ids, NoRoute, faults, token auth."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.sandbox.auth import check
from bot.sandbox.context import RequestInfo, attach, info_of
from bot.sandbox.errors import (
    BAD_GATEWAY_HTML,
    REQUEST_ID_HEADER,
    dashboard_page,
    json_response,
    new_request_id,
    openai_error,
)
from bot.sandbox.families import family_of_path, foreign_not_found
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
from bot.sandbox.state import state_of

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
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
async def gateway_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count the hit, give the request an id, route misses, resolve faults, check the key."""
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
        family = family_of_path(request.path)
        if family is not None and family not in state.families:
            return foreign_not_found(state.absent)
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


async def add_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """X-Oneapi-Request-Id on every response, streams included (runs as headers go out)."""
    try:
        response.headers[REQUEST_ID_HEADER] = info_of(request).request_id
    except KeyError:
        response.headers[REQUEST_ID_HEADER] = new_request_id()
