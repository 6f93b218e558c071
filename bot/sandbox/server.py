"""SandboxServer: the aiohttp application with every routed endpoint, on a loopback port."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
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
from bot.sandbox.clock import SimClock
from bot.sandbox.context import info_of
from bot.sandbox.drawing import start_worker
from bot.sandbox.errors import openai_error
from bot.sandbox.families import ABSENT_STYLES, Absent, family_of_path, parse_families
from bot.sandbox.faults import parse_fault
from bot.sandbox.files import FILES_PATH
from bot.sandbox.gateway import Handler, add_request_id, gateway_middleware
from bot.sandbox.images import warm_up
from bot.sandbox.mj_tasks import GATEWAY_REFRESH_S, TaskStore
from bot.sandbox.state import STATE, SandboxState, state_of

log = logging.getLogger(__name__)

MJ_PREFIXES = ("", "/mj-fast", "/mj-relax", "/mj-turbo")
MAX_BODY = 64 * 2**20


def build_app(state: SandboxState) -> web.Application:
    """The application with every routed endpoint of the contract."""
    app = web.Application(middlewares=[gateway_middleware], client_max_size=MAX_BODY)
    app[STATE] = state
    app.on_response_prepare.append(add_request_id)
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
    if state.upstream_list:
        mj.append(("GET", "/mj/task/list", mj_query.recent))
    for prefix in MJ_PREFIXES:
        routes += [(method, prefix + path, handler) for method, path, handler in mj]
    for method, path, handler in routes:
        family = family_of_path(path)
        if family is None or family in state.families:
            app.router.add_route(method, path, handler)
    return app


async def _serve_file(request: web.Request) -> web.Response:
    return await state_of(request).files.handle(request)


async def _not_implemented(request: web.Request) -> web.Response:
    return openai_error(info_of(request).request_id, 501, "API not implemented",
                        code="api_not_implemented")


class SandboxServer:
    """The offline gateway on a real loopback port; `speed` divides every simulated delay.

    `families`: the route families served (chat, images, audio, embeddings, mj; all by
    default); the others answer as a foreign server does, per `absent` (bot.sandbox.families).
    `refresh_s`: how often (scenario seconds) the gateway refreshes unfinished MJ tasks from
    upstream; 0 shows upstream's latest on every fetch. By default 15 s (the real gateway's
    cadence) at speed 1, and 0 at any other speed (tests and benchmarks that want every step).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, speed: float = 1.0,
                 faults: Iterable[str] = (), *, access_log: bool = False,
                 refresh_s: float | None = None, families: Iterable[str] | None = None,
                 absent: Absent = "json", upstream_list: bool = False) -> None:
        self.host = host
        self.port = port
        if refresh_s is None:
            refresh_s = GATEWAY_REFRESH_S if speed == 1.0 else 0.0
        clock = SimClock(speed)
        self.state = SandboxState(clock=clock, tasks=TaskStore(clock, refresh_s))
        self.state.global_faults = [parse_fault(name) for name in faults]
        if families is not None:
            self.state.families = parse_families(",".join(families))
        if absent not in ABSENT_STYLES:
            raise ValueError(f"absent must be one of {', '.join(ABSENT_STYLES)}")
        self.state.absent = absent
        self.state.upstream_list = upstream_list
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
    def families(self) -> frozenset[str]:
        """The route families this sandbox serves."""
        return self.state.families

    @property
    def refresh_s(self) -> float:
        """Scenario seconds between the gateway's refreshes of unfinished MJ tasks (0: none)."""
        return self.state.tasks.refresh_s

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
        await start_worker(warm_up)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:
            self.port = int(self._runner.addresses[0][1])
        log.info("sandbox gateway listening on %s (speed %s, MJ refresh every %s s)", self.url,
                 self.speed, self.refresh_s)

    async def stop(self) -> None:
        """Close the listener and every open connection."""
        for pending in self.state.pending:
            pending.cancel()
        self.state.pending.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SandboxServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
