"""Images linked in a model's answer: nothing reaches loopback or a private address, by name or
literal, directly or through a redirect, while the gateway's own files still download."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web

from bot.config import Settings
from bot.markdown_images import fetch_linked_images
from bot.upstream import DestinationRefused, UpstreamClient
from tests.upstream.conftest import KEY
from tests.upstream.network import PretendInternet, RoutingTransport
from tests.upstream.scripted import ScriptedServer, bytes_reply

PNG = b"\x89PNG\r\n\x1a\n pixels"


async def started() -> ScriptedServer:
    server = ScriptedServer()
    await server.start()
    return server


def port_of(server: ScriptedServer) -> int:
    return httpx.URL(server.url).port or 80


def redirect(to: str) -> web.StreamResponse:
    raise web.HTTPFound(to)


@pytest.fixture
async def recorder() -> AsyncIterator[ScriptedServer]:
    """What an attacker would aim at: a server on the bot's loopback, serving an image anywhere."""
    server = await started()
    server.on("GET /latest/meta-data.png", bytes_reply(PNG, "image/png"))
    server.on("GET /secret.png", bytes_reply(PNG, "image/png"))
    yield server
    await server.stop()


@pytest.fixture
async def public() -> AsyncIterator[ScriptedServer]:
    """A host the pretend internet puts at a public address (images.example.com)."""
    server = await started()
    server.on("GET /cat.png", bytes_reply(PNG, "image/png"))
    yield server
    await server.stop()


@pytest.fixture
async def gateway() -> AsyncIterator[ScriptedServer]:
    server = await started()
    server.on("GET /mj/image/42", bytes_reply(PNG, "image/png"))
    server.on("GET /files/drawn.png", bytes_reply(PNG, "image/png"))
    yield server
    await server.stop()


@pytest.fixture
def internet() -> PretendInternet:
    net = PretendInternet()
    net.host("images.example.com", "93.184.216.34")
    net.host("intranet.example.com", "10.0.0.7")
    net.host("rebound.example.com", "93.184.216.35", "127.0.0.1")
    net.host("nat64.example.com", "64:ff9b::7f00:1")
    return net


async def test_links_to_loopback_by_literal_or_name_are_never_requested(
    recorder: ScriptedServer, gateway: ScriptedServer, internet: PretendInternet,
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = port_of(recorder)
    client, transport = internet.client(gateway.url, port)
    links = [
        f"http://127.0.0.1:{port}/latest/meta-data.png",
        f"http://localhost:{port}/latest/meta-data.png",
        f"http://[::ffff:127.0.0.1]:{port}/latest/meta-data.png",
        f"http://2130706433:{port}/latest/meta-data.png",  # 127.0.0.1 as one number
    ]
    answer = "Here you go: " + " ".join(f"![x]({link})" for link in links)
    caplog.set_level(logging.INFO, logger="bot.markdown_images")
    async with client:
        assert await fetch_linked_images(client, answer) == []
    assert recorder.received == []
    assert not any(h in ("127.0.0.1", "localhost") for h in transport.connected)
    reasons = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert len(reasons) == 4 and all("loopback" in reason for reason in reasons)


async def test_names_resolving_to_private_addresses_are_refused(
    recorder: ScriptedServer, gateway: ScriptedServer, internet: PretendInternet
) -> None:
    port = port_of(recorder)
    client, transport = internet.client(gateway.url, port)
    async with client:
        for name, reason in (("intranet.example.com", "private"),
                             ("rebound.example.com", "loopback"),  # one public, one not
                             ("nat64.example.com", "loopback (NAT64 127.0.0.1)")):
            with pytest.raises(DestinationRefused) as caught:
                await client.download_link(f"http://{name}:{port}/secret.png")
            assert caught.value.reason == reason
    assert transport.connected == [] and recorder.received == []
    assert internet.resolved == ["intranet.example.com", "rebound.example.com",
                                 "nat64.example.com"]


async def test_a_redirect_from_a_public_host_to_loopback_or_a_private_name_is_not_followed(
    recorder: ScriptedServer, public: ScriptedServer, gateway: ScriptedServer,
    internet: PretendInternet,
) -> None:
    port = port_of(recorder)
    targets = [f"http://127.0.0.1:{port}/secret.png", f"http://localhost:{port}/secret.png",
               f"http://intranet.example.com:{port}/secret.png"]
    for i, target in enumerate(targets):
        public.on(f"GET /r{i}.png", lambda request, to=target: redirect(to))
    client, _ = internet.client(gateway.url, port, port_of(public))
    answer = " ".join(
        f"![x](http://images.example.com:{port_of(public)}/r{i}.png)" for i in range(3)
    )
    async with client:
        assert await fetch_linked_images(client, answer) == []
    assert sum(public.hits.values()) == 3  # the public host was asked...
    assert recorder.received == []  # ...and nothing behind it


async def test_a_public_image_downloads_without_the_key_and_pinned_to_the_checked_address(
    public: ScriptedServer, gateway: ScriptedServer, internet: PretendInternet
) -> None:
    client, transport = internet.client(gateway.url, port_of(public))
    async with client:
        [image] = await fetch_linked_images(
            client, f"![cat](http://images.example.com:{port_of(public)}/cat.png)"
        )
    assert image.mime == "image/png" and image.data == PNG
    [seen] = public.received
    assert "Authorization" not in seen.headers
    assert seen.headers["Host"] == f"images.example.com:{port_of(public)}"
    assert transport.connected == ["93.184.216.34"]  # the checked address, not the name


async def test_the_gateways_own_files_download_from_loopback_without_the_key(
    gateway: ScriptedServer, internet: PretendInternet
) -> None:
    client, _ = internet.client(gateway.url)
    answer = f"![mj]({gateway.url}/mj/image/42) ![drawn](/files/drawn.png)"
    async with client:
        images = await fetch_linked_images(client, answer)
        result = await client.download(f"{gateway.url}/mj/image/42")  # an MJ imageUrl
    assert len(images) == 2 and result.data == PNG
    links, own = gateway.received[:2], gateway.received[2]
    assert all("Authorization" not in r.headers for r in links)  # a link never carries the key
    assert own.headers["Authorization"] == f"Bearer {KEY}"  # a result from the gateway does


async def test_results_the_gateway_points_elsewhere_are_checked_too(
    recorder: ScriptedServer, gateway: ScriptedServer, internet: PretendInternet
) -> None:
    port = port_of(recorder)
    client, _ = internet.client(gateway.url, port)
    async with client:
        with pytest.raises(DestinationRefused):
            await client.download(f"http://intranet.example.com:{port}/secret.png")
    assert recorder.received == []


@pytest.mark.parametrize(
    ("link", "reason"),
    [
        ("ftp://images.example.com/cat.png", "not an absolute http(s) URL"),
        ("//images.example.com/cat.png", "not an absolute http(s) URL"),
        ("http://user:pw@images.example.com/cat.png", "user info in the URL"),
        ("http://images.example.com:22/cat.png", "port 22 is not allowed"),
    ],
)
async def test_schemes_userinfo_and_odd_ports_are_refused_before_any_lookup(
    gateway: ScriptedServer, internet: PretendInternet, link: str, reason: str
) -> None:
    client, transport = internet.client(gateway.url)
    async with client:
        with pytest.raises(DestinationRefused) as caught:
            await client.download_link(link)
    assert caught.value.reason == reason
    assert internet.resolved == [] and transport.connected == []


async def test_an_operator_allowed_host_may_be_on_the_lan(
    recorder: ScriptedServer, gateway: ScriptedServer, internet: PretendInternet
) -> None:
    port = port_of(recorder)
    internet.routes["images.lan"] = "127.0.0.1"
    client, _ = internet.client(gateway.url, allowed_hosts=(f"images.lan:{port}",))
    async with client:
        got = await client.download_link(f"http://images.lan:{port}/secret.png")
        with pytest.raises(DestinationRefused):  # the allowance is for that host only
            await client.download_link(f"http://localhost:{port}/secret.png")
    assert got.data == PNG and len(recorder.received) == 1


async def test_the_allowed_hosts_setting_reaches_the_client(
    recorder: ScriptedServer, gateway: ScriptedServer, internet: PretendInternet
) -> None:
    port = port_of(recorder)
    internet.routes["images.lan"] = "127.0.0.1"
    settings = Settings(_env_file=None, upstream_base_url=gateway.url, upstream_api_key=KEY,
                        fetch_allowed_hosts=f"images.lan:{port}, other.lan")
    assert settings.fetch_allowed_hosts == [f"images.lan:{port}", "other.lan"]
    async with UpstreamClient.from_settings(
        settings, transport=RoutingTransport(internet.routes), resolver=internet.resolve
    ) as client:
        got = await client.download_link(f"http://images.lan:{port}/secret.png")
    assert got.data == PNG


async def test_an_https_link_is_pinned_to_the_checked_address_and_keeps_its_name_for_tls(
    internet: PretendInternet,
) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=PNG, headers={"Content-Type": "image/png"})

    async with UpstreamClient("https://gateway.example", KEY, transport=httpx.MockTransport(answer),
                              resolver=internet.resolve) as client:
        got = await client.download_link("https://images.example.com/cat.png")
    assert got.data == PNG
    [request] = seen
    assert request.url.host == "93.184.216.34" and request.url.scheme == "https"
    assert request.headers["Host"] == "images.example.com"
    assert request.extensions["sni_hostname"] == "images.example.com"
    assert "Authorization" not in request.headers


async def test_a_name_that_re_resolves_to_loopback_is_refused_the_second_time(
    recorder: ScriptedServer, gateway: ScriptedServer, internet: PretendInternet
) -> None:
    port = port_of(recorder)
    internet.host("flip.example.com", "93.184.216.36")
    client, transport = internet.client(gateway.url, port)
    link = f"http://flip.example.com:{port}/secret.png"
    async with client:
        first = await client.download_link(link)  # public: fetched (served from loopback here)
        internet.names["flip.example.com"] = ["127.0.0.1"]  # the DNS answer changes
        with pytest.raises(DestinationRefused) as caught:
            await client.download_link(link)
    assert first.data == PNG and caught.value.reason == "loopback"
    assert transport.connected == ["93.184.216.36"] and len(recorder.received) == 1
