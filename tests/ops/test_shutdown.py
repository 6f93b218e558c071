"""SIGTERM as an operator sends it (a container stop, a deploy): the answer being streamed
finishes, the pending Midjourney job stays stored and lands after the restart, exit status 0;
a second SIGTERM exits at once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from bot.sandbox.server import SandboxServer

REPO = Path(__file__).resolve().parents[2]
CHAT = "POST /v1/chat/completions"
BOUND_S = 60.0
# A grid takes 30 scenario seconds: 10 real ones at speed 3, while the answer streams for ~2.
SPEED = 3.0
# The sandbox's filler words, which an answer is counted in.
LOREM = frozenset(
    ("lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "do",
     "eiusmod", "tempor", "incididunt", "ut", "labore", "et", "dolore", "magna", "aliqua")
)  # fmt: skip
LONG_ANSWER = "/ask tell me a long story [[tokens:120]] [[tps:20]]"


@pytest.fixture
async def slow_sandbox() -> AsyncIterator[SandboxServer]:
    server = SandboxServer(host="127.0.0.1", port=0, speed=SPEED)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def _env(tmp_path: Path, sandbox: SandboxServer) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k.upper() not in {"DISCORD_TOKEN", "TELEGRAM_TOKEN", "HEALTH_PORT"}
    }
    env.update(
        PYTHONPATH=str(REPO),
        PYTHONIOENCODING="utf-8",
        UPSTREAM_BASE_URL=sandbox.url,
        UPSTREAM_API_KEY="sk-test-shutdown",
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        CONSOLE_OUTPUT_DIR=str(tmp_path / "out"),
        MJ_POLL_MIN_INTERVAL_S="0.1",
        MJ_POLL_MAX_INTERVAL_S="0.3",
        SHUTDOWN_GRACE_S="30",
    )
    return env


async def _console(tmp_path: Path, sandbox: SandboxServer) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "console",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=tmp_path,
        env=_env(tmp_path, sandbox),
    )  # fmt: skip


async def _until(predicate: object, bound: float = BOUND_S) -> None:
    assert callable(predicate)
    async with asyncio.timeout(bound):
        while not predicate():  # noqa: ASYNC110 (sandbox counters have no event)
            await asyncio.sleep(0.02)


async def _jobs(tmp_path: Path) -> list[tuple[str, bool]]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(sa.text("SELECT status, delivered FROM jobs"))
            return [(str(status), bool(delivered)) for status, delivered in rows]
    finally:
        await engine.dispose()


async def test_sigterm_mid_stream_and_mid_job_then_the_restart_delivers_the_job(
    tmp_path: Path, slow_sandbox: SandboxServer
) -> None:
    first = await _console(tmp_path, slow_sandbox)
    assert first.stdin is not None
    first.stdin.write(f"/imagine a lighthouse at dusk\n{LONG_ANSWER}\n".encode())
    await first.stdin.drain()
    await _until(lambda: slow_sandbox.hits[CHAT] >= 1)  # the answer is streaming now
    first.send_signal(signal.SIGTERM)
    async with asyncio.timeout(BOUND_S):
        out, err = await first.communicate()
    output, errors = out.decode(), err.decode()

    assert first.returncode == 0, errors[-3000:]
    assert "Traceback" not in errors
    answer = output[output.index("Echo: tell me a long story") :]
    words = [w for w in answer.split() if w in LOREM]
    assert len(words) >= 100 and "cut off" not in output  # all 120 tokens arrived
    assert "[image]" not in output
    assert await _jobs(tmp_path) == [("pending", False)]  # left for the next start

    second = await _console(tmp_path, slow_sandbox)
    async with asyncio.timeout(BOUND_S):
        out, err = await second.communicate(b"")  # no new input: it waits for resumed jobs
    assert second.returncode == 0, err.decode()[-3000:]
    assert "[image]" in out.decode()
    assert await _jobs(tmp_path) == [("success", True)]
    assert slow_sandbox.hits["POST /mj/submit/imagine"] == 1  # resumed, never resubmitted


async def test_a_second_sigterm_exits_at_once(tmp_path: Path, slow_sandbox: SandboxServer) -> None:
    process = await _console(tmp_path, slow_sandbox)
    assert process.stdin is not None
    process.stdin.write(b"/ask a very long story [[tokens:2000]] [[tps:20]]\n")
    await process.stdin.drain()
    await _until(lambda: slow_sandbox.hits[CHAT] >= 1)
    process.send_signal(signal.SIGTERM)
    await asyncio.sleep(0.3)
    process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(5):  # the answer alone would stream for ~30 s
        await process.communicate()
    assert process.returncode == 128 + signal.SIGTERM
