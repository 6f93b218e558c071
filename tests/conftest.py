"""Shared fixtures: the offline sandbox on a real loopback port; no process left behind."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from bot.sandbox import drawing
from bot.sandbox.server import SandboxServer
from tests.support.processes import PROC, become_subreaper, descendants, still_alive

# How long processes a test started may take to leave once the suite is done.
LEAVE_WITHIN_S = 5.0


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxServer]:
    """A sandbox on 127.0.0.1:<free port>, fast enough that an MJ job ends well under a second."""
    server = SandboxServer(host="127.0.0.1", port=0, speed=200.0)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture(scope="session", autouse=True)
def no_process_left_behind() -> Iterator[None]:
    """The suite leaves no process running: every child (and, on Linux, every orphaned
    grandchild, which we adopt) has ended a few seconds after the last test."""
    linux = sys.platform.startswith("linux") and PROC.is_dir()
    if linux:
        become_subreaper()
    yield
    drawing.shutdown()
    if not linux:
        return
    deadline = time.monotonic() + LEAVE_WITHIN_S
    while (left := still_alive([p.pid for p in descendants(os.getpid())])) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.1)
    if left:
        for proc in left:
            with contextlib.suppress(OSError):
                os.kill(proc.pid, signal.SIGKILL)
        lines = "\n".join(f"  {p.pid} {p.command[:200]}" for p in left)
        pytest.fail(f"processes left running after the suite (now killed):\n{lines}")
