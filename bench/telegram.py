"""Telegram streaming figures (printed, never asserted): K private chats streaming /ask at once.

    .venv/bin/python bench/telegram.py [K ...]        (default: 1 10 50)

For K = 1, 10 and 50 private chats, each asks at the same moment for a 500-word answer (the
sandbox streams at ~50 tokens/s after its first-token delay). The bot (core + Telegram adapter,
this process) talks to the fake Bot API (a child process, Telegram-like flood limits on: ~1/s
per chat with a burst of 3, ~30/s overall, 429 + retry_after past them) and to the sandbox (a
child process at real speed). Printed per K:
- replies whose final text equals the model's output (rendered), and 429s received;
- first visible model text after the model's first token reached the bot, p50 (target <= 1 s);
- the model's last token to the complete answer on screen, p50 / p99 (target <= 1.5 s);
- the bot process's CPU seconds and peak RSS (peak of the whole run so far).
Then, for reference, the same with 10 groups (20 messages/min each: the answer is edited every
3 s instead of growing as a draft).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Run as a script, this file's directory would come first on the path, and this module would
# then stand in for the `telegram` package itself: put the repository there instead.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from adapters.telegram.adapter import TelegramAdapter  # noqa: E402
from adapters.telegram.render import render  # noqa: E402
from bench.sandbox_child import child_server, sandbox_process  # noqa: E402
from bot.app import build_core, close_core  # noqa: E402
from bot.channel import ChatRef, MessageRef, TextStream  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.replies import Reply  # noqa: E402
from storage.sql_store import SqlStore  # noqa: E402

TOKEN = "123456:BENCH-token"
WORDS = 500
TPS = 50
GROUPS = 10
PROMPT = f"/ask write me a long story [[tokens:{WORDS}]] [[tps:{TPS}]]"

_FAKE_CHILD = """
import asyncio, sys
from tests.fakes.telegram_api import FakeTelegram

async def main():
    fake = FakeTelegram(sys.argv[1], limits=True)
    print(await fake.start(), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await fake.stop()

asyncio.run(main())
"""


@contextlib.contextmanager
def fake_process() -> Iterator[str]:
    """The fake Bot API server in a child process; yields its root URL."""
    with child_server(_FAKE_CHILD, TOKEN, name="fake Bot API") as url:
        yield url


def control(url: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{url}/_control/{path}", data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


@dataclass
class Seen:
    """What the core handed one chat's stream, with monotonic times."""

    first_token: float = 0.0
    last_token: float = 0.0
    final: str = ""


@dataclass
class Recorder:
    chats: dict[str, Seen] = field(default_factory=dict)

    def wrap(self, stream: TextStream, chat: ChatRef) -> TextStream:
        seen = self.chats.setdefault(chat.chat_id, Seen())
        class Recording:
            def update(self, markdown: str) -> None:
                now = time.monotonic()
                if "Echo" in markdown and not seen.first_token:
                    seen.first_token = now
                seen.last_token = now
                stream.update(markdown)

            async def finish(self, reply: Reply) -> MessageRef:
                seen.final = reply.text
                return await stream.finish(reply)

        return Recording()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def machine_speed() -> float:
    """ms for sum(range(10**6)): about 12-15 on a current desktop core; scales the figures."""
    start = time.process_time()
    for _ in range(5):
        sum(range(10**6))
    return (time.process_time() - start) / 5 * 1000


async def run_k(k: int, sandbox_url: str, fake_url: str, db: Path, kind: str = "private") -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=f"sqlite+aiosqlite:///{db}",
        telegram_bot_token=TOKEN, telegram_api_base_url=fake_url,
    )
    core = await build_core(settings, upstream_url=sandbox_url, api_key="sk-bench")
    store = core.services.store
    assert isinstance(store, SqlStore)
    adapter = TelegramAdapter(core.dispatcher, store.engine, TOKEN, fake_url, poll_timeout=5.0)
    recorder = Recorder()
    opened = adapter.channel.open_stream

    def open_stream(chat: ChatRef, *, reply_to: MessageRef | None = None) -> TextStream:
        return recorder.wrap(opened(chat, reply_to=reply_to), chat)

    adapter.channel.open_stream = open_stream  # type: ignore[method-assign]
    await adapter.connect()
    core.services.channels[adapter.platform] = adapter.channel
    await core.tracker.start()
    await adapter.start()
    base = 10_000 * k
    sign = 1 if kind == "private" else -1
    chats = [str(sign * (base + i)) for i in range(k)]
    cpu0 = time.process_time()
    limited0 = (await asyncio.to_thread(control, fake_url, "state"))["rate_limited"]
    try:
        for chat in chats:
            body = {"chat_id": chat, "text": PROMPT, "type": kind}
            await asyncio.to_thread(control, fake_url, "message", body)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            done = [c for c in chats if recorder.chats.get(c, Seen()).final]
            if len(done) == k:
                break
            await asyncio.sleep(0.1)
        await adapter.pacer.settle(30)
        cpu = time.process_time() - cpu0
        state = await asyncio.to_thread(control, fake_url, "state")
    finally:
        await adapter.stop(grace_s=5)
        await close_core(core)
    state["rate_limited"] -= limited0
    report(k, chats, recorder, state, cpu, kind)


def report(
    k: int, chats: list[str], recorder: Recorder, state: Any, cpu: float, kind: str
) -> None:
    by_chat: dict[str, list[Any]] = {}
    for m in state["messages"]:
        if not m["deleted"]:
            by_chat.setdefault(str(m["chat_id"]), []).append(m)
    drafts = state["drafts"]
    equal, first_lat, end_lat = 0, [], []
    for chat in chats:
        seen = recorder.chats.get(chat, Seen())
        messages = sorted(by_chat.get(chat, []), key=lambda m: m["message_id"])
        expected = [c.text for c in render(seen.final)] if seen.final else []
        shown = [m["history"][-1][1] for m in messages]
        if seen.final and shown == expected:
            equal += 1
            complete = max(
                next(t for t, text in m["history"] if text == m["history"][-1][1])
                for m in messages
            )
            end_lat.append(complete - seen.last_token)
        visible = [t for t, text in drafts.get(chat, []) if "Echo" in text] + [
            t for m in messages for t, text in m["history"] if "Echo" in text
        ]
        if visible and seen.first_token:
            first_lat.append(min(visible) - seen.first_token)
    where = "private chats" if kind == "private" else "groups (20 messages/min each)"
    print(f"K = {k:>2} {where}: final text equals the model's output {equal}/{k} "
          f"({100 * equal / k:.0f} %); 429s received {state['rate_limited']}")
    print(f"        first visible text after first token p50 {percentile(first_lat, .5):.2f} s; "
          f"last token -> complete on screen p50 {percentile(end_lat, .5):.2f} s, "
          f"p99 {percentile(end_lat, .99):.2f} s")
    print(f"        bot CPU {cpu:.2f} s; peak RSS {peak_rss_mb():.0f} MB")
    if first_lat:
        print(f"        (first visible, mean {statistics.mean(first_lat):.2f} s)")


async def main(ks: list[int]) -> None:
    print(f"machine: sum(range(10**6)) takes {machine_speed():.1f} ms CPU here "
          "(~12-15 ms on a current desktop core)")
    with sandbox_process(1.0) as sandbox_url, fake_process() as fake_url:
        print(f"sandbox {sandbox_url}, fake Bot API {fake_url} (child processes); "
              f"{WORDS}-token answers at {TPS} tokens/s\n")
        for k in ks:
            with tempfile.TemporaryDirectory() as tmp:
                await run_k(k, sandbox_url, fake_url, Path(tmp) / "bench.db")
        with tempfile.TemporaryDirectory() as tmp:  # for reference: groups, edited every 3 s
            await run_k(GROUPS, sandbox_url, fake_url, Path(tmp) / "bench.db", "supergroup")


if __name__ == "__main__":
    asyncio.run(main([int(a) for a in sys.argv[1:]] or [1, 10, 50]))
