"""/healthz and /metrics as the app wires them: store, upstream and adapters checked, commands
counted."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from bot.app import build_core, close_core, health_server
from bot.sandbox.server import SandboxServer
from tests.core.conftest import fast_settings
from tests.support.harness import Harness
from tests.support.recording import RecordingChannel


class Disconnected:
    """An adapter whose platform connection is down."""

    platform = "test"

    async def check_health(self) -> None:
        raise ConnectionError("gateway websocket closed")


async def test_healthz_names_the_adapter_that_lost_its_platform(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    settings = fast_settings(tmp_path, health_port=0, health_host="127.0.0.1")
    core = await build_core(settings, upstream_url=sandbox.url, api_key="sk-test")
    try:
        core.add_adapter("test", RecordingChannel("test"), reporter=Disconnected())
        async with health_server(core, settings) as server, httpx.AsyncClient() as http:
            assert server is not None
            answer = await http.get(f"http://127.0.0.1:{server.port}/healthz")
    finally:
        await close_core(core)
    assert answer.status_code == 503
    assert answer.json()["parts"] == {
        "store": "ok",
        "upstream": "ok",
        "test": "gateway websocket closed",
    }


async def test_healthz_is_503_when_the_gateway_is_gone(tmp_path: Path) -> None:
    sandbox = SandboxServer(host="127.0.0.1", port=0, speed=200.0)
    await sandbox.start()
    url = sandbox.url
    await sandbox.stop()
    settings = fast_settings(tmp_path, health_port=0, health_host="127.0.0.1")
    core = await build_core(settings, upstream_url=url, api_key="sk-test")
    try:
        async with health_server(core, settings) as server, httpx.AsyncClient() as http:
            assert server is not None
            answer = await http.get(f"http://127.0.0.1:{server.port}/healthz")
    finally:
        await close_core(core)
    assert answer.status_code == 503
    parts = answer.json()["parts"]
    assert parts["store"] == "ok" and parts["upstream"] != "ok"
    assert "sk-test" not in answer.text


async def test_no_listener_without_a_health_port(tmp_path: Path, sandbox: SandboxServer) -> None:
    settings = fast_settings(tmp_path)
    core = await build_core(settings, upstream_url=sandbox.url, api_key="sk-test")
    try:
        async with health_server(core, settings) as server:
            assert server is None
    finally:
        await close_core(core)


async def test_metrics_count_commands_outcomes_and_upstream_errors(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    settings = fast_settings(tmp_path, health_port=0, health_host="127.0.0.1")
    core = await build_core(settings, upstream_url=sandbox.url, api_key="sk-test")
    channel = RecordingChannel("test")
    core.add_adapter("test", channel)
    await core.tracker.start()
    h = Harness(core, channel)
    try:
        await h.command("ask", "hello")
        await h.command("ask", "boom [[fault:500]]")
        await h.command("imagine", "")
        async with health_server(core, settings) as server, httpx.AsyncClient() as http:
            assert server is not None
            text = (await http.get(f"http://127.0.0.1:{server.port}/metrics")).text
    finally:
        await close_core(core)
    assert 'modelbridge_commands_total{command="ask",outcome="ok"} 1.0' in text
    assert 'modelbridge_commands_total{command="ask",outcome="upstream_error"} 1.0' in text
    assert 'modelbridge_commands_total{command="imagine",outcome="bad_input"} 1.0' in text
    assert 'modelbridge_upstream_errors_total{kind="ServerError"} 1.0' in text
    assert 'modelbridge_command_seconds_count{command="ask"} 2.0' in text
    assert "modelbridge_pending_mj_jobs 0.0" in text
    # The answered /ask stored its turn: at least that write was timed.
    writes = re.search(r"^modelbridge_store_write_seconds_count (\S+)$", text, re.M)
    assert writes is not None and float(writes.group(1)) >= 1
