"""The one exchange loop: every gateway call and download is sent, retried and parsed here."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Generator
from typing import Any, TypeVar

import httpx
from pydantic import SecretStr, ValidationError

from bot.upstream.addresses import FetchRules
from bot.upstream.envelopes import (
    error_from_body,
    error_from_response,
    error_from_transport,
    is_html,
    make_redactor,
    may_have_been_sent,
    not_supported_html,
)
from bot.upstream.errors import (
    BadResponse,
    ModelNotAvailable,
    NotOffered,
    RateLimited,
    UpstreamError,
)
from bot.upstream.guard import AddressGuard, Resolver
from bot.upstream.retry import Failure, RetryPolicy, retry_delay
from bot.upstream.routes import ALL_ROUTES, Family, Route, Timeout

log = logging.getLogger(__name__)

T = TypeVar("T")
# the poll-type reads get a short read timeout whatever the long one is
_POLL_READ_TIMEOUT = 30.0


class _BearerAuth(httpx.Auth):
    """Sends the key to the gateway's own origin only (downloads may point at a CDN)."""

    def __init__(self, key: SecretStr, origin: tuple[bytes, bytes, int | None]) -> None:
        self._key = key
        self._origin = origin

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        url = request.url
        if (url.raw_scheme, url.raw_host, url.port) == self._origin:
            request.headers["Authorization"] = f"Bearer {self._key.get_secret_value()}"
        yield request

    def __repr__(self) -> str:
        return "_BearerAuth(***)"


NO_AUTH = httpx.Auth()  # for URLs that must never carry the key, wherever they point


class Exchange:
    """One pooled `httpx.AsyncClient`, the queue of quick calls, and the retry loop."""

    def __init__(
        self,
        base: str,
        key: SecretStr,
        *,
        connect_timeout: float,
        read_timeout: float,
        transport: httpx.AsyncBaseTransport | None,
        retry: RetryPolicy,
        max_in_flight: int,
        fetch_rules: FetchRules,
        resolver: Resolver | None,
    ) -> None:
        self.base = base
        self.redact = make_redactor(key.get_secret_value())
        # told when a route turns out missing (404 on it, HTML page): see capabilities.py
        self.on_not_offered: Callable[[Family], None] | None = None
        self._retry = retry
        short_read = min(read_timeout, _POLL_READ_TIMEOUT)
        self._timeouts = {
            kind: httpx.Timeout(read, connect=connect_timeout, pool=connect_timeout)
            for kind, read in ((Timeout.POLL, short_read), (Timeout.LONG, read_timeout))
        }
        origin = httpx.URL(base)
        # routes without ids, parsed to URLs once: httpx re-parses a string URL on every call
        self._fixed = {
            r.path: httpx.URL(base + r.path) for r in ALL_ROUTES if r.path and "{" not in r.path
        }
        if transport is None:
            gateway: httpx.AsyncBaseTransport = httpx.AsyncHTTPTransport(
                # Idle connections kept: enough for the queued calls, the polls and the urgent
                # downloads of a burst, which otherwise open (and the gateway accepts) a new
                # connection for most requests.
                limits=httpx.Limits(
                    max_connections=100, max_keepalive_connections=max(20, 3 * max_in_flight)
                ),
            )
            # Elsewhere connections are pinned to an address, so none is kept: a kept one
            # would carry requests for another name on the same address (a CDN) over a TLS
            # session checked for the first name only.
            elsewhere: httpx.AsyncBaseTransport = httpx.AsyncHTTPTransport(
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=0)
            )
        else:
            gateway = elsewhere = transport
        self._http = httpx.AsyncClient(
            base_url=base,
            auth=_BearerAuth(key, (origin.raw_scheme, origin.raw_host, origin.port)),
            timeout=self._timeouts[Timeout.LONG],
            transport=AddressGuard(origin, gateway, elsewhere, fetch_rules, resolver),
            headers={"Accept": "application/json"},
            # No proxies from the environment: they would be mounted beside the guard and the
            # address check would not see where the connection goes.
            trust_env=False,
        )
        # httpcore's pool re-scans every connection for every queued request, so a burst of a
        # few hundred calls (200 /imagine submits at once) costs quadratic CPU inside it. Quick
        # calls queue here instead, cheaply (see `Route.queued`).
        self._in_flight = asyncio.Semaphore(max_in_flight)

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._http.aclose()

    def url(self, route: Route[Any], id_: str = "") -> httpx.URL | str:
        """The route's URL (a cached parse for fixed paths)."""
        fixed = self._fixed.get(route.path)
        return fixed if fixed is not None else self.base + route.path_for(id_)

    async def send(
        self,
        route: Route[Any],
        target: httpx.URL | str,
        *,
        stream: bool = False,
        **request: Any,
    ) -> httpx.Response:
        """A 2xx response (left open when `stream`: the caller closes it), retried per the rule."""

        async def once(req: httpx.Request) -> httpx.Response:
            response = await self._http.send(req, stream=stream)
            if response.status_code >= 300:
                await self._fail(route, response, opened=stream)
            return response

        return await self._run(route, target, once, queued=route.queued, request=request)

    async def fetch(
        self,
        route: Route[Any],
        target: httpx.URL | str,
        consume: Callable[[httpx.Response], Awaitable[T]],
        *,
        queued: bool,
        auth: httpx.Auth | None = None,
        **request: Any,
    ) -> T:
        """Stream a response into `consume` inside the loop: a body cut halfway is tried again
        like any other failure (still at most `attempts` requests), redirects followed."""

        async def once(req: httpx.Request) -> T:
            sent_auth = httpx.USE_CLIENT_DEFAULT if auth is None else auth
            response = await self._http.send(
                req, stream=True, follow_redirects=True, auth=sent_auth
            )
            try:
                if response.status_code >= 300:
                    await self._fail(route, response, opened=False)
                return await consume(response)
            finally:
                await response.aclose()

        return await self._run(route, target, once, queued=queued, request=request)

    async def _fail(self, route: Route[Any], response: httpx.Response, *, opened: bool) -> None:
        """Raise the error a non-2xx answer stands for (its body read first)."""
        try:
            await response.aread()
        finally:
            if opened:
                await response.aclose()
        raise error_from_response(
            response, paid=route.paid, redact=self.redact,
            route_404=route.family is not Family.FILES,
        )

    async def _run(
        self,
        route: Route[Any],
        target: httpx.URL | str,
        once: Callable[[httpx.Request], Awaitable[T]],
        *,
        queued: bool,
        request: dict[str, Any],
    ) -> T:
        """The one retry loop: try, ask `retry_delay` what a failure allows, wait, try again."""
        timeout = self._timeouts[route.timeout]
        attempt = 0
        rate_limited = 0
        while True:
            attempt += 1
            req = self._http.build_request(route.method, target, timeout=timeout, **request)
            cause: BaseException | None = None
            try:
                if not queued:
                    result = await once(req)
                else:
                    async with self._in_flight:
                        result = await once(req)
                log.debug("%s %s -> ok", route.method, req.url.path)
                return result
            except httpx.TransportError as exc:
                error = error_from_transport(exc, paid=route.paid, redact=self.redact)
                sent, cause = may_have_been_sent(exc), exc
            except UpstreamError as exc:
                error, sent = exc, True
            failure = Failure(error, route.paid, sent, attempt, rate_limited)
            delay = retry_delay(failure, self._retry)
            if delay is None:
                self._annotate(route, error, request)
                raise error from cause
            rate_limited += isinstance(error, RateLimited)
            log.warning(
                "upstream %s %s failed (%s), retry %d/%d in %.2fs",
                route.method, req.url.path, error, attempt, self._retry.attempts - 1, delay,
            )
            await asyncio.sleep(delay)

    def _annotate(self, route: Route[Any], error: UpstreamError, request: dict[str, Any]) -> None:
        """Add what only the call knows to a failure about to be raised."""
        if isinstance(error, NotOffered):
            self._not_offered(route, error)
        elif isinstance(error, ModelNotAvailable) and error.model is None:
            body = request.get("json") or request.get("data")
            model = body.get("model") if isinstance(body, dict) else None
            if isinstance(model, str) and model:
                error.name_model(model)

    def _not_offered(self, route: Route[Any], error: NotOffered) -> None:
        error.family = error.family or route.family.value
        if route.family is Family.MIDJOURNEY_EXTRAS:
            return  # expected at new-api; the callers fall back quietly
        log.warning("the gateway does not offer %s: %s", route.family.value, error)
        if self.on_not_offered is not None:
            self.on_not_offered(route.family)

    def answer(self, route: Route[T], response: httpx.Response) -> T:
        """Parse a 2xx body; an HTML page there means the route is not served by this gateway."""
        if is_html(response):
            error = not_supported_html(response, route.family.value)
            self._not_offered(route, error)
            raise error
        try:
            return route.answer(response.content)
        except ValidationError as exc:
            raise self.bad_body(response, exc, paid=route.paid) from None

    def error_in(self, response: httpx.Response, *, paid: bool) -> UpstreamError:
        """The error an answer carries in its body although its status says success."""
        return error_from_body(
            response.status_code, response.json(), response.headers, paid=paid, redact=self.redact
        )

    def bad_body(
        self, response: httpx.Response, exc: ValidationError, *, paid: bool
    ) -> UpstreamError:
        """The error for a 2xx body that does not have the expected shape."""
        try:
            body = json.loads(response.content)
        except ValueError:
            return BadResponse(
                f"{response.request.url.path}: invalid JSON",
                status=response.status_code, maybe_charged=paid,
            )
        if isinstance(body, dict) and ("error" in body or "description" in body):
            # an error envelope delivered with 200 (one-api model lookups, MJ codes)
            return error_from_body(
                response.status_code, body, response.headers, paid=paid, redact=self.redact
            )
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return BadResponse(
            f"{response.request.url.path}: unexpected shape at {where!r}: {first['msg']}",
            status=response.status_code, maybe_charged=paid,
        )
