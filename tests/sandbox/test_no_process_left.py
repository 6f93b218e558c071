"""Whatever the sandbox draws in ends with the process that started it, however that ends."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.sandbox.drawing import draw, shutdown, worker_pid
from tests.console.test_end_to_end import console_env
from tests.support.processes import descendants, still_alive

REPO = Path(__file__).resolve().parents[2]
BOUND_S = 60.0
LEAVE_WITHIN_S = 5.0


def _read_until(process: subprocess.Popen[bytes], marker: bytes) -> bytes:
    assert process.stdout is not None
    seen = b""
    deadline = time.monotonic() + BOUND_S
    while marker not in seen:
        assert time.monotonic() < deadline, seen.decode(errors="replace")
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            chunk = os.read(process.stdout.fileno(), 65536)
            assert chunk, seen.decode(errors="replace")  # the console ended early
            seen += chunk
    return seen


def _gone_within(pids: list[int], seconds: float) -> list[str]:
    deadline = time.monotonic() + seconds
    while (left := still_alive(pids)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [f"{p.pid} {p.command}" for p in left]


def test_a_console_killed_with_sigkill_after_an_imagine_leaves_no_process(
        tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "console"], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=tmp_path,
        env=console_env(tmp_path))
    try:
        assert process.stdin is not None
        process.stdin.write(b"/imagine a cat\n")
        process.stdin.flush()
        _read_until(process, b"[image] ")
        family = [p.pid for p in descendants(process.pid)]
        # The grid was drawn in a worker process: the one that must not outlive the console.
        assert family, "the console drew without a worker process"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(BOUND_S)
        assert _gone_within(family, LEAVE_WITHIN_S) == []
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def test_the_drawing_worker_ends_when_the_sandbox_process_is_done_with_it() -> None:
    await draw(os.getpid)
    pid = worker_pid()
    assert pid is not None and pid != os.getpid()
    shutdown()
    assert _gone_within([pid], LEAVE_WITHIN_S) == []
    # The next drawing starts a worker again.
    assert await draw(os.getpid) not in (os.getpid(), pid)


def test_a_sandbox_server_killed_with_sigkill_leaves_no_process() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "sandbox", "--port", "0"], stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        # The drawing worker starts (and warms up) before the server says it listens.
        _read_until(process, b"sandbox gateway on ")
        family = [p.pid for p in descendants(process.pid)]
        assert family, "the sandbox started no drawing worker"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(BOUND_S)
        assert _gone_within(family, LEAVE_WITHIN_S) == []
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
