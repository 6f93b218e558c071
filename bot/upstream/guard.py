"""A transport that connects only to public addresses, except the gateway and allowed hosts.

Every request the client sends passes here, each redirect hop included (httpx follows
redirects above the transport). A request to the gateway's own origin or to a host the
operator allowed goes through as it is. Any other host is resolved here, every address it
resolves to is checked, and the request is pinned to the checked address (the URL names the
address, the Host header and TLS SNI keep the name), so a name re-resolving to a private
address between the check and the connection is never connected to.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

import httpx

from bot.upstream.addresses import FetchRules, address_refusal, effective_port
from bot.upstream.errors import DestinationRefused

# host, port -> the addresses to try, in order (what getaddrinfo gives)
Resolver = Callable[[str, int], Awaitable[list[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    """The system's resolver, off the event loop (getaddrinfo runs in a worker thread)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class AddressGuard(httpx.AsyncBaseTransport):
    """Passes the gateway's requests to `gateway`; checks and pins every other one."""

    def __init__(
        self,
        gateway_origin: httpx.URL,
        gateway: httpx.AsyncBaseTransport,
        elsewhere: httpx.AsyncBaseTransport,
        rules: FetchRules,
        resolver: Resolver | None = None,
    ) -> None:
        self._origin = (gateway_origin.scheme, gateway_origin.raw_host,
                        effective_port(gateway_origin))
        self._gateway = gateway
        self._elsewhere = elsewhere
        self._rules = rules
        self._resolve = resolver or system_resolver

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.raw_host == self._origin[1] and (url.scheme, url.raw_host,
                                                 effective_port(url)) == self._origin:
            return await self._gateway.handle_async_request(request)
        reason = self._rules.url_refusal(url)
        if reason is not None:
            raise DestinationRefused(url.host, reason)
        if self._rules.allows_host(url):
            return await self._elsewhere.handle_async_request(request)
        address = await self._public_address(url)
        return await self._elsewhere.handle_async_request(_pinned(request, address))

    async def _public_address(self, url: httpx.URL) -> str:
        host, port = url.host, effective_port(url) or 80
        try:
            addresses = await self._resolve(host, port)
        except OSError as exc:
            raise httpx.ConnectError(f"cannot resolve {host}: {exc}") from exc
        if not addresses:
            raise httpx.ConnectError(f"{host} has no address")
        for address in addresses:
            # every address is checked: a name mixing public and private ones is refused
            reason = address_refusal(address)
            if reason is not None:
                shown = host if host == address else f"{host} -> {address}"
                raise DestinationRefused(shown, reason)
        return addresses[0]

    async def aclose(self) -> None:
        await self._gateway.aclose()
        if self._elsewhere is not self._gateway:
            await self._elsewhere.aclose()


def _pinned(request: httpx.Request, address: str) -> httpx.Request:
    """`request` sent to `address`, still naming its host in the Host header and TLS SNI."""
    extensions = dict(request.extensions)
    if request.url.scheme == "https":
        extensions["sni_hostname"] = request.url.host
    return httpx.Request(
        request.method,
        request.url.copy_with(host=address.split("%", 1)[0]),
        headers=request.headers,  # Host is already set from the original URL
        stream=request.stream,
        extensions=extensions,
    )
