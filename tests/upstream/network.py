"""A pretend internet for fetch tests: chosen names resolve to public addresses (a resolver stub)
and a transport delivers what is sent to those addresses to servers on loopback.

The client's guard sees only the public address; the loopback hop happens below it, the way a
router would carry the packets. Names not listed resolve for real (localhost, literals)."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from bot.upstream import FetchRules, UpstreamClient
from bot.upstream.addresses import DEFAULT_ALLOWED_PORTS
from bot.upstream.guard import system_resolver
from tests.upstream.conftest import FAST_RETRY, KEY


class RoutingTransport(httpx.AsyncHTTPTransport):
    """The real transport, delivering requests for the pretend public addresses to loopback."""

    def __init__(self, routes: dict[str, str]) -> None:
        super().__init__()
        self.routes = routes
        self.connected: list[str] = []  # the host of every URL that reached this transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        self.connected.append(host)
        if host in self.routes:
            request = httpx.Request(
                request.method, request.url.copy_with(host=self.routes[host]),
                headers=request.headers, stream=request.stream, extensions=request.extensions,
            )
        return await super().handle_async_request(request)


@dataclass
class PretendInternet:
    """Names -> addresses for the resolver stub; public addresses -> the loopback behind them."""

    names: dict[str, list[str]] = field(default_factory=dict)
    routes: dict[str, str] = field(default_factory=dict)
    resolved: list[str] = field(default_factory=list)

    def host(self, name: str, *addresses: str) -> None:
        """Make `name` resolve to `addresses`; public ones are served from loopback."""
        self.names[name] = list(addresses)
        for address in addresses:
            self.routes[address] = "127.0.0.1"

    async def resolve(self, host: str, port: int) -> list[str]:
        self.resolved.append(host)
        if host in self.names:
            return self.names[host]
        return await system_resolver(host, port)

    def client(self, gateway_url: str, *ports: int, allowed_hosts: tuple[str, ...] = ()
               ) -> tuple[UpstreamClient, RoutingTransport]:
        """A client of `gateway_url` on this internet, the test servers' `ports` allowed."""
        transport = RoutingTransport(self.routes)
        rules = FetchRules.with_hosts(allowed_hosts, DEFAULT_ALLOWED_PORTS | set(ports))
        client = UpstreamClient(gateway_url, KEY, retry=FAST_RETRY, transport=transport,
                                fetch_rules=rules, resolver=self.resolve)
        return client, transport
