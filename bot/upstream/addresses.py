"""Which URLs and addresses the bot may fetch from when the URL did not come from the gateway.

Pure rules over the stdlib `ipaddress` module; `guard.py` applies them to every connection.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_ALLOWED_PORTS = frozenset({80, 443, 8080, 8443})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# NAT64: the well-known prefix carries an IPv4 address in its last 32 bits (RFC 6052); the
# local-use prefix (RFC 8215) is the operator's own network.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
# Ranges `is_global` lets through on some Python versions but no public image lives on.
_NOT_PUBLIC_V4 = (
    ipaddress.ip_network("100.64.0.0/10"),  # carrier-grade NAT, shared address space
    ipaddress.ip_network("192.0.0.0/24"),  # IETF protocol assignments
    ipaddress.ip_network("198.18.0.0/15"),  # benchmarking
)


def _embedded_v4(ip: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """The IPv4 address an IPv6 form stands for (mapped, NAT64, 6to4), with the form's name."""
    if ip.ipv4_mapped is not None:
        return "IPv4-mapped", ip.ipv4_mapped
    if ip in _NAT64:
        return "NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return "6to4", ip.sixtofour
    return None


def address_refusal(address: str | IPAddress) -> str | None:
    """Why the bot may not connect to `address` ("loopback", "private", ...); None if public."""
    if isinstance(address, str):
        address = address.split("%", 1)[0]  # an IPv6 zone id says nothing about the address
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_v4(ip)
        if embedded is not None:
            form, v4 = embedded
            reason = address_refusal(v4)
            return None if reason is None else f"{reason} ({form} {v4})"
        if ip in _NAT64_LOCAL:
            return "local-use NAT64"
        if ip.is_site_local:
            return "site-local"
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    )
    for reason, applies in checks:
        if applies:
            return reason
    if isinstance(ip, ipaddress.IPv4Address) and any(ip in net for net in _NOT_PUBLIC_V4):
        return "private"
    if not ip.is_global:
        return "not globally reachable"
    return None


def effective_port(url: httpx.URL) -> int | None:
    """The port a URL connects to, the scheme's default included."""
    return url.port if url.port is not None else _DEFAULT_PORTS.get(url.scheme)


@dataclass(frozen=True, slots=True)
class HostRule:
    """An operator-allowed host, optionally limited to one port ("images.lan", "10.0.0.5:9000")."""

    host: str
    port: int | None = None

    @classmethod
    def parse(cls, entry: str) -> HostRule:
        """Read "host", "host:port" or "[v6]:port"."""
        url = httpx.URL(f"http://{entry.strip()}")
        return cls(url.host.rstrip(".").lower(), url.port)

    def matches(self, url: httpx.URL) -> bool:
        """True when `url` points at this host (and port, when one was given)."""
        if url.host.rstrip(".").lower() != self.host:
            return False
        return self.port is None or effective_port(url) == self.port


@dataclass(frozen=True, slots=True)
class FetchRules:
    """What a URL that did not come from the gateway's own origin must satisfy."""

    allowed_hosts: tuple[HostRule, ...] = ()
    allowed_ports: frozenset[int] = field(default=DEFAULT_ALLOWED_PORTS)

    @classmethod
    def with_hosts(
        cls, entries: Iterable[str], allowed_ports: frozenset[int] = DEFAULT_ALLOWED_PORTS
    ) -> FetchRules:
        """Rules allowing the operator's `entries` ("host" or "host:port") on any address."""
        return cls(tuple(HostRule.parse(e) for e in entries if e.strip()), allowed_ports)

    def allows_host(self, url: httpx.URL) -> bool:
        """True for a host the operator allowed: its addresses are not checked."""
        return any(rule.matches(url) for rule in self.allowed_hosts)

    def url_refusal(self, url: httpx.URL) -> str | None:
        """Why `url` may not be fetched whatever it resolves to; None when it may."""
        if url.scheme not in _DEFAULT_PORTS:
            return f"scheme {url.scheme or '(none)'!r} is not http(s)"
        if url.userinfo:
            return "user info in the URL"
        if not url.host:
            return "no host"
        if self.allows_host(url):
            return None
        if url.port is not None and url.port not in self.allowed_ports:
            return f"port {url.port} is not allowed"
        return None
