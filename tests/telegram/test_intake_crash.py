"""Nothing a user sent is lost to a kill -9, and nothing is handled twice."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.telegram_api import FakeTelegram
from tests.telegram.support import TOKEN, wait_for

ALICE = 3001
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(TOKEN, limits=False)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def start_child(fake: FakeTelegram, tmp_path: Path, hold: bool) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.telegram.crash_child", fake.url, str(tmp_path), str(int(hold)),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    assert line.strip() == b"ready"
    return proc


def texts(fake: FakeTelegram) -> list[str]:
    return [m.text for m in fake.bot_messages(ALICE)]


async def test_updates_stored_but_unhandled_at_a_kill_9_are_handled_once_after_restart(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    first = await start_child(fake, tmp_path, hold=True)
    try:
        slow = fake.user_message(ALICE, "/slow")
        await wait_for(lambda: fake.called("getUpdates") and _confirmed(fake, 1))
        # The first command hangs, so these queue behind it: stored, not started.
        ids = [fake.push_text(ALICE, f"/cmd{i}") for i in range(3)]
        await wait_for(lambda: _confirmed(fake, ids[-1]), what="the batch confirmed")
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    assert texts(fake) == [], "nothing was answered before the crash"

    second = await start_child(fake, tmp_path, hold=False)
    try:
        await wait_for(lambda: len(texts(fake)) >= 4, 20, "answers after the restart")
        await asyncio.sleep(1.5)  # a second handling would show up by now
    finally:
        second.send_signal(signal.SIGKILL)
        await second.wait()
    shown = texts(fake)
    ran = sorted(t for t in shown if t.startswith("ran"))
    assert ran == ["ran /cmd0", "ran /cmd1", "ran /cmd2"]
    restarted = [m for m in fake.bot_messages(ALICE) if "restarted" in m.text]
    assert len(restarted) == 1 and restarted[0].reply_to == slow["message_id"]
    assert len(shown) == 4


def _confirmed(fake: FakeTelegram, update_id: int) -> bool:
    """Telegram considers an update confirmed once getUpdates asks for a later offset."""
    return any(int(c.params.get("offset") or 0) > update_id for c in fake.called("getUpdates"))
