"""Which addresses count as public: every private, loopback, link-local, multicast, reserved or
unspecified range is refused, in IPv4 and IPv6, mapped, NAT64 and 6to4 forms included."""

from __future__ import annotations

import httpx
import pytest

from bot.upstream.addresses import FetchRules, HostRule, address_refusal


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # the cloud metadata service
        ("100.64.0.1", "private"),  # carrier-grade NAT
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "private"),  # reserved 240/4, listed private by ipaddress
        ("255.255.255.255", "private"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("fec0::1", "site-local"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback (IPv4-mapped 127.0.0.1)"),
        ("::ffff:10.0.0.1", "private (IPv4-mapped 10.0.0.1)"),
        ("64:ff9b::7f00:1", "loopback (NAT64 127.0.0.1)"),
        ("64:ff9b::a9fe:a9fe", "link-local (NAT64 169.254.169.254)"),
        ("64:ff9b:1::a00:1", "local-use NAT64"),
        ("2002:7f00:1::", "loopback (6to4 127.0.0.1)"),
        ("::7f00:1", "reserved"),  # IPv4-compatible, deprecated
        ("2001:db8::1", "private"),  # documentation
    ],
)
def test_non_public_addresses_are_refused_with_a_reason(address: str, reason: str) -> None:
    assert address_refusal(address) == reason


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808",
     "2002:808:808::1"],
)
def test_public_addresses_pass(address: str) -> None:
    assert address_refusal(address) is None


def test_url_rules_refuse_other_schemes_userinfo_and_ports_outside_the_allowlist() -> None:
    rules = FetchRules()
    assert rules.url_refusal(httpx.URL("https://cdn.example.com/a.png")) is None
    assert rules.url_refusal(httpx.URL("http://cdn.example.com:8080/a.png")) is None
    assert rules.url_refusal(httpx.URL("file:///etc/passwd")) == "scheme 'file' is not http(s)"
    assert rules.url_refusal(httpx.URL("http://a:b@cdn.example.com/")) == "user info in the URL"
    assert rules.url_refusal(httpx.URL("http://cdn.example.com:6379/")) == (
        "port 6379 is not allowed"
    )


def test_operator_hosts_match_by_name_and_optional_port() -> None:
    rules = FetchRules.with_hosts(["Images.LAN", "10.0.0.5:9000", " "])
    assert rules.allowed_hosts == (HostRule("images.lan"), HostRule("10.0.0.5", 9000))
    assert rules.allows_host(httpx.URL("http://images.lan./x.png"))
    assert rules.allows_host(httpx.URL("http://images.lan:7000/x.png"))
    assert rules.url_refusal(httpx.URL("http://images.lan:7000/x.png")) is None
    assert rules.allows_host(httpx.URL("http://10.0.0.5:9000/x.png"))
    assert not rules.allows_host(httpx.URL("http://10.0.0.5/x.png"))


def test_url_rules_refuse_a_url_without_a_scheme_or_a_host_saying_so() -> None:
    rules = FetchRules()
    assert rules.url_refusal(httpx.URL("//cdn.example.com/a.png")) == (
        "scheme '(none)' is not http(s)"
    )
    assert rules.url_refusal(httpx.URL("http:///a.png")) == "no host"


def test_the_operators_allowed_ports_replace_the_default_ones() -> None:
    rules = FetchRules.with_hosts([], allowed_ports=frozenset({9000}))
    assert rules.url_refusal(httpx.URL("http://cdn.example.com:9000/a.png")) is None
    assert rules.url_refusal(httpx.URL("http://cdn.example.com:8080/a.png")) == (
        "port 8080 is not allowed"
    )


def test_an_operator_host_written_with_a_trailing_dot_matches_the_plain_name() -> None:
    rules = FetchRules.with_hosts(["images.lan."])
    assert rules.allowed_hosts == (HostRule("images.lan"),)
    assert rules.allows_host(httpx.URL("http://images.lan/x.png"))


def test_an_operator_host_allowed_on_443_matches_https_without_a_port_but_not_http() -> None:
    rule = HostRule.parse("images.lan:443")
    assert rule.matches(httpx.URL("https://images.lan/x.png"))
    assert not rule.matches(httpx.URL("http://images.lan/x.png"))  # port 80
    assert not rule.matches(httpx.URL("https://images.lan:8443/x.png"))
