"""The sandbox in a child process, so a benchmark counts only its own CPU and memory."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

_CHILD = """
import asyncio, sys
from bot.sandbox.server import SandboxServer

async def main():
    server = SandboxServer(port=0, speed=float(sys.argv[1]))
    await server.start()
    print(server.url, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await server.stop()

asyncio.run(main())
"""


@contextlib.contextmanager
def child_server(code: str, *args: str, name: str) -> Iterator[str]:
    """Run `code` (which prints its server's URL, then serves until its stdin closes) in a
    child; yield the URL; stop it on exit."""
    root = Path(__file__).resolve().parent.parent
    child = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=root,
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        if not url.startswith("http"):
            raise SystemExit(f"the {name} did not start")
        yield url
    finally:
        # The child ends when its stdin closes.
        if child.stdin is not None:
            child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()


@contextlib.contextmanager
def sandbox_process(speed: float) -> Iterator[str]:
    """Start `SandboxServer(speed=speed)` in a child; yield its URL; stop it on exit."""
    with child_server(_CHILD, str(speed), name="sandbox") as url:
        yield url
