"""`modelbridge run` with a Telegram token, as an operator runs it: a real process, killed -9.

The process polls the fake Bot API on loopback and uses its in-process sandbox upstream.
"""

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

REPO = Path(__file__).resolve().parents[2]
ALICE = 6001


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(TOKEN, limits=False)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def run_bot(fake: FakeTelegram, tmp_path: Path, log: Path) -> asyncio.subprocess.Process:
    env = {
        k: v for k, v in os.environ.items()
        if k.upper() not in {"UPSTREAM_BASE_URL", "UPSTREAM_API_KEY", "DISCORD_TOKEN"}
    }
    env.update(
        PYTHONPATH=str(REPO),
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=fake.url,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        SANDBOX_SPEED="1",
        LOG_LEVEL="DEBUG",
    )
    polls = len(fake.called("getUpdates"))
    with log.open("ab") as sink:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", cwd=tmp_path, env=env,
            stdout=sink, stderr=sink,
        )
    await wait_for(lambda: len(fake.called("getUpdates")) > polls, 60, "the bot polling")
    return proc


def confirmed(fake: FakeTelegram, update_id: int) -> bool:
    return any(int(c.params.get("offset") or 0) > update_id for c in fake.called("getUpdates"))


async def test_kill_9_mid_answer_loses_nothing_and_answers_nothing_twice(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    log = tmp_path / "bot.log"
    first = await run_bot(fake, tmp_path, log)
    try:
        fake.user_message(ALICE, "/ask a long story [[tokens:300]] [[tps:10]]")
        await wait_for(lambda: fake.drafts.get(ALICE), 30, "the answer starting")
        waiting = [fake.push_text(ALICE, "/ask short one"), fake.push_text(ALICE, "/help")]
        await wait_for(lambda: confirmed(fake, waiting[-1]), 30, "the updates confirmed")
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    assert fake.bot_messages(ALICE) == [], "the queued messages were not handled before the kill"

    second = await run_bot(fake, tmp_path, log)
    try:
        await wait_for(
            lambda: len(fake.bot_messages(ALICE)) >= 3, 60, "answers after the restart"
        )
        await asyncio.sleep(2.0)  # anything handled twice would show by now
    finally:
        second.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(second.wait(), 30)
    texts = [m.text for m in fake.bot_messages(ALICE)]
    assert len([t for t in texts if t.startswith("Echo: short one")]) == 1
    assert len([t for t in texts if "/imagine" in t]) == 1  # the help text
    assert len([t for t in texts if "restarted" in t]) == 1  # the cut-short long story
    assert not [t for t in texts if "a long story" in t], "the cut-short answer was not rerun"
    assert code == 0, "SIGTERM stops the bot cleanly"
    logged = log.read_text(encoding="utf-8", errors="replace")
    assert "connected as @" in logged
    assert TOKEN not in logged and TOKEN.split(":")[1] not in logged
