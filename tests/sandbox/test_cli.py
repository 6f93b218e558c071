"""`modelbridge sandbox`: its help documents every knob, and it serves as a separate process."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.cli import build_parser
from bot.sandbox.faults import FAULTS

ROOT = Path(__file__).resolve().parents[2]


def _help_text() -> str:
    result = subprocess.run([sys.executable, "-m", "bot.cli", "sandbox", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=True)
    return result.stdout


def test_help_mentions_every_fault_header_and_marker() -> None:
    text = _help_text()
    for name in ("latency=<s>", "429", "500", "502", "badjson", "cut", "mj_failure", "banned",
                 "queue_full", "stuck", "quota", *FAULTS):
        assert name in text, name
    for knob in ("X-Sandbox-Fault", "X-Sandbox-Tokens", "X-Sandbox-TPS", "[[fault:<name>]]",
                 "[[tokens:<n>]]", "[[tps:<n>]]", "mj-api-secret", "--speed", "--fault",
                 "--port", "--host", "--refresh", "--families", "--absent"):
        assert knob in text, knob


def test_parser_defaults_and_fault_validation() -> None:
    parser = build_parser()
    args = parser.parse_args(["sandbox"])
    assert (args.host, args.port, args.speed, args.fault) == ("127.0.0.1", 8700, 1.0, [])
    args = parser.parse_args(["sandbox", "--speed", "50", "--fault", "latency=2",
                              "--fault", "cut"])
    assert args.speed == 50.0 and args.fault == ["latency=2", "cut"]
    with pytest.raises(SystemExit):
        parser.parse_args(["sandbox", "--fault", "meltdown"])
    with pytest.raises(SystemExit):
        parser.parse_args(["sandbox", "--speed", "0"])
    assert parser.parse_args(["sandbox"]).refresh is None  # the server's default for its speed
    assert parser.parse_args(["sandbox", "--refresh", "0"]).refresh == 0.0
    with pytest.raises(SystemExit):
        parser.parse_args(["sandbox", "--refresh", "-1"])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def sandbox_process() -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = _free_port()
    with subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "sandbox", "--port", str(port), "--speed", "100",
         "--fault", "latency=0"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as process:
        try:
            yield process, port
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()


async def _wait_until_up(process: subprocess.Popen[str], http: httpx.AsyncClient) -> None:
    """Poll until the child process accepts connections (it may take a while to import)."""
    for _ in range(600):
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            await http.get("/mj/task/queue")
            return
        except httpx.ConnectError:
            await asyncio.sleep(0.05)
    raise AssertionError("the sandbox process never answered")


async def test_subprocess_serves_models_and_stops_on_ctrl_c(
        sandbox_process: tuple[subprocess.Popen[str], int]) -> None:
    process, port = sandbox_process
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url, verify=False,
                                 headers={"Authorization": "Bearer sk-cli"}) as http:
        await _wait_until_up(process, http)
        response = await http.get("/v1/models")
        assert response.status_code == 200
        assert response.json()["success"] is True
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=10) == 0
    assert process.stdout is not None
    assert f"127.0.0.1:{port}" in process.stdout.read()


async def test_subprocess_stops_cleanly_on_sigterm(
        sandbox_process: tuple[subprocess.Popen[str], int]) -> None:
    process, port = sandbox_process
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", verify=False) as http:
        await _wait_until_up(process, http)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    assert process.stdout is not None
    assert "sandbox gateway stopped" in process.stdout.read()
