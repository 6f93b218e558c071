"""/ask figures (printed, never asserted): core overhead per turn, memory, and context load time.

    .venv/bin/python bench/core_ask.py

1. 1,000 /ask turns over 100 private conversations (10 turns each, interleaved), through
   `Dispatcher.handle_command` with the real store (SQLite file) and the real client against the
   sandbox in a child process at a speed factor that removes its delays. Overhead per turn is
   the turn's wall time minus the time spent inside the client's stream (request, waiting,
   reading): what the core adds (store, token counts, trimming, message edits). Target p50 <= 2 ms.
2. 100,000 messages appended through the store: process RSS and database size.
   Target RSS <= 150 MB. The database is created beforehand by another process, as it is on
   every start but the first; the first start also loads Alembic to create it, and about what
   that adds is printed too (start RSS of a process opening a new file minus an existing one).
3. Loading the context (the newest turns, as /ask does) of a conversation with 1,000 messages vs
   one with 100,000: the times should be about equal (the load walks an index backwards).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.sandbox_child import sandbox_process
from bot.app import build_core, close_core, freeze_startup_objects
from bot.channel import Actor, ChatRef, MessageRef
from bot.config import Settings
from bot.context.conversation import MAX_LOADED_MESSAGES
from bot.context.tokens import encoding_name, load_for, message_tokens
from bot.dispatcher import Dispatcher
from bot.inbound import CommandRequest
from bot.replies import Progress, Reply
from bot.services import Services
from bot.upstream import ChatChunk
from storage.base import ConversationKey, StoredMessage

TURNS = 1000
CONVERSATIONS = 100
STORED_MESSAGES = 100_000
BATCH = 1000
LOADS = 200
SPEED = 1e6
OVERHEAD_TARGET_MS = 2.0
RSS_TARGET_MB = 150.0




def rss_mb() -> float:
    """Resident set size of this process now."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class QuietChannel:
    """A Channel that shows nothing and remembers nothing (the adapter's cost is not ours)."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.sent = 0
        self.edits = 0
        self.last_edit_at = 0.0

    async def send(
        self, chat: ChatRef, reply: Reply, *, reply_to: MessageRef | None = None
    ) -> MessageRef:
        self.sent += 1
        return MessageRef(chat, str(next(self._ids)))

    async def edit(self, message: MessageRef, reply: Reply) -> MessageRef:
        self.edits += 1
        self.last_edit_at = time.perf_counter()
        return message

    async def progress(
        self, message: MessageRef | None, chat: ChatRef, state: Progress
    ) -> MessageRef:
        return message or MessageRef(chat, str(next(self._ids)))

    def open_stream(self, chat: ChatRef, *, reply_to: MessageRef | None = None) -> QuietStream:
        self.sent += 1
        return QuietStream(self, MessageRef(chat, str(next(self._ids))))

    async def delete(self, message: MessageRef) -> None:
        return None

    async def typing(self, chat: ChatRef) -> None:
        return None


class QuietStream:
    """A stream whose updates cost what an adapter's offer costs: keeping the latest text."""

    def __init__(self, channel: QuietChannel, ref: MessageRef) -> None:
        self.channel = channel
        self.ref = ref
        self.latest = ""

    def update(self, markdown: str) -> None:
        self.latest = markdown
        self.channel.edits += 1

    async def finish(self, reply: Reply) -> MessageRef:
        self.channel.last_edit_at = time.perf_counter()
        return self.ref


class UpstreamTimer:
    """Wraps the client's stream_chat so the time spent inside it can be taken off a turn."""

    def __init__(self, services: Services) -> None:
        self.seconds = 0.0
        self.started_at = 0.0  # when the last stream was opened
        self.ended_at = 0.0  # when the last stream ended
        self._inner = services.client.stream_chat
        services.client.stream_chat = self._stream  # type: ignore[method-assign]

    async def _stream(self, *args: Any, **kwargs: Any) -> AsyncIterator[ChatChunk]:
        stream = self._inner(*args, **kwargs)
        self.started_at = time.perf_counter()
        while True:
            start = time.perf_counter()
            try:
                chunk = await anext(stream)
            except StopAsyncIteration:
                self.ended_at = time.perf_counter()
                self.seconds += self.ended_at - start
                return
            self.seconds += time.perf_counter() - start
            yield chunk


class StoreTimer:
    """Wraps the store's methods /ask uses, to show how much of the overhead is the database."""

    METHODS = ("get_prefs", "get_summary", "load_context", "append_messages", "record_usage")

    def __init__(self, services: Services) -> None:
        self.seconds = 0.0
        self.calls: dict[str, list[float]] = {}  # per method, each call's time (ms)
        for name in self.METHODS:
            method = getattr(services.store, name)
            setattr(services.store, name, self._timed(name, method))

    def _timed(
        self, name: str, method: Callable[..., Awaitable[Any]]
    ) -> Callable[..., Awaitable[Any]]:
        calls = self.calls.setdefault(name, [])

        async def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await method(*args, **kwargs)
            finally:
                seconds = time.perf_counter() - start
                self.seconds += seconds
                calls.append(seconds * 1000)

        return timed

    def by_method(self) -> str:
        """p50 of each method called, with its calls per turn."""
        return ", ".join(
            f"{name} {statistics.median(ms):.3f} ms x{len(ms) / TURNS:.1f}"
            for name, ms in self.calls.items()
            if ms
        )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def bench_turns(bot: Dispatcher, services: Services, report: Callable[[str], None]) -> None:
    channel = QuietChannel()
    services.channels["bench"] = channel
    timer = UpstreamTimer(services)
    store_timer = StoreTimer(services)
    overhead_ms: list[float] = []
    upstream_ms: list[float] = []
    store_ms: list[float] = []
    visible_ms: list[float] = []
    warmup = 20
    for turn in range(TURNS + warmup):
        user = f"u{turn % CONVERSATIONS}"
        request = CommandRequest(
            actor=Actor("bench", user, name=user),
            chat=ChatRef("bench", f"chat-{user}", is_private=True),
            command="ask",
            text=f"question number {turn} about something moderately interesting",
        )
        before_upstream, before_store = timer.seconds, store_timer.seconds
        start = time.perf_counter()
        await bot.handle_command(request, channel)
        total = time.perf_counter() - start
        upstream = timer.seconds - before_upstream
        in_store = store_timer.seconds - before_store
        # What the user waits for beyond the model: before the request, and from the last
        # token to the complete answer on screen (the stores after that delay nothing shown).
        seen = (timer.started_at - start) + (channel.last_edit_at - timer.ended_at)
        if turn >= warmup:
            visible_ms.append(seen * 1000)
            overhead_ms.append((total - upstream) * 1000)
            upstream_ms.append(upstream * 1000)
            store_ms.append(in_store * 1000)
    p50 = statistics.median(overhead_ms)
    report(f"1. /ask: {TURNS} turns over {CONVERSATIONS} conversations "
           f"({channel.sent} messages sent, {channel.edits} stream updates)")
    report(f"   core overhead per turn p50 : {p50:6.2f} ms   (target <= {OVERHEAD_TARGET_MS} ms)")
    report(f"   core overhead per turn p90 : {percentile(overhead_ms, 0.9):6.2f} ms")
    report(f"   of which in the store p50  : {statistics.median(store_ms):6.2f} ms   "
           "(one durable commit, a direct SQLite write; prefs, context, summary from memory)")
    report(f"     per store call p50       : {store_timer.by_method()}")
    rest = [o - st for o, st in zip(overhead_ms, store_ms, strict=True)]
    report(f"   the rest (core code) p50   : {statistics.median(rest):6.2f} ms   "
           "(dispatch, token counts, trimming, edits)")
    report(f"   seen by the user p50       : {statistics.median(visible_ms):6.2f} ms   "
           "(before the request + last token to final edit)")
    report(f"   upstream time per turn p50 : {statistics.median(upstream_ms):6.2f} ms   "
           "(client + sandbox, excluded above)")


async def fill(services: Services, key: ConversationKey, count: int) -> None:
    """Append `count` messages (user/assistant pairs) to one conversation through the store."""
    text = "a stored message of ordinary length, about twenty tokens, for the benchmark"
    tokens = message_tokens(text, "gpt-4o-mini")
    for start in range(0, count, BATCH):
        batch = [
            StoredMessage("user" if i % 2 == 0 else "assistant", f"{text} {start + i}", tokens)
            for i in range(min(BATCH, count - start))
        ]
        await services.store.append_messages(key, batch)


async def load_ms(services: Services, key: ConversationKey, *, from_file: bool = False) -> float:
    """Median time of a context load; `from_file` bypasses the store's in-memory turns."""
    store: Any = services.store
    load = store._load_context if from_file else store.load_context
    times: list[float] = []
    for _ in range(LOADS):
        start = time.perf_counter()
        await load(key, MAX_LOADED_MESSAGES)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


async def bench_storage(
    services: Services,
    db_path: Path,
    report: Callable[[str], None],
    rss_note: str,
    first_start_mb: float,
) -> None:
    small = ConversationKey("bench", "history-1k", "", "u")
    big = ConversationKey("bench", "history-100k", "", "u")
    start = time.perf_counter()
    await fill(services, small, 1000)
    await fill(services, big, STORED_MESSAGES - 1000)
    insert_s = time.perf_counter() - start
    size = sum(p.stat().st_size for p in db_path.parent.glob(db_path.name + "*") if p.is_file())
    rss = rss_mb()
    report(f"2. {STORED_MESSAGES:,} messages appended through the store in {insert_s:.1f} s")
    report(f"   process RSS                : {rss:6.1f} MB   (target <= {RSS_TARGET_MB:.0f} MB)")
    report(f"                                ({rss_note})")
    report(f"   on the first start, about  : {rss + first_start_mb:6.1f} MB   "
           f"(+ {first_start_mb:.1f} MB: Alembic, loaded only to create or migrate the database)")
    report(f"   database size (with WAL)   : {size / 2**20:6.1f} MB")
    report(f"3. context load ({MAX_LOADED_MESSAGES} newest messages), median of {LOADS}")
    for label, from_file in (("from the file", True), ("as served", False)):
        await load_ms(services, small, from_file=from_file)  # warm both alike
        at_1k = await load_ms(services, small, from_file=from_file)
        at_100k = await load_ms(services, big, from_file=from_file)
        report(f"   {label}: history of {1000:>6,} messages : {at_1k:6.3f} ms, "
               f"of {STORED_MESSAGES - 1000:>6,} : {at_100k:6.3f} ms   "
               f"(ratio {at_100k / at_1k:.2f}; target ~1)")


OPEN_STORE = """
import asyncio, sys
from storage.sql_store import SqlStore

async def main():
    async with SqlStore(sys.argv[1]):
        pass
    print(open("/proc/self/status").read().split("VmRSS:")[1].split()[0])

asyncio.run(main())
"""


def open_store_rss_mb(url: str) -> float:
    """Open (creating and migrating if needed) the store at `url` in a process of its own;
    that process's RSS afterwards, in MB."""
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", OPEN_STORE, url], cwd=root, check=True,
                          capture_output=True, text=True)
    return int(done.stdout.split()[-1]) / 1024


async def run(report: Callable[[str], None]) -> None:
    """Run the /ask benchmark and report each figure with its target."""
    with sandbox_process(SPEED) as url, tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.db"
        url_of = f"sqlite+aiosqlite:///{db_path}"
        # Created by an earlier process, as on every start but the first. The first start also
        # loads Alembic to create the database: its cost is the difference between opening a
        # new file and an existing one, each in a fresh process.
        creating = await asyncio.to_thread(open_store_rss_mb, url_of)
        reopening = await asyncio.to_thread(open_store_rss_mb, url_of)
        settings = Settings(
            _env_file=None,
            database_url=url_of,
            upstream_read_timeout=30.0,
        )
        core = await build_core(settings, upstream_url=url, api_key="sk-bench-ask")
        services, bot = core.services, core.dispatcher
        freeze_startup_objects()  # as `modelbridge run` does once it has started
        try:
            report(f"modelbridge /ask benchmark (pid {os.getpid()}; sandbox in a child)")
            before = rss_mb()
            await load_for(settings.default_model)
            tokenizer_mb = rss_mb() - before
            await bench_turns(bot, services, report)
            encoding = encoding_name(settings.default_model)
            note = f"at start {before:.0f} MB, + {tokenizer_mb:.0f} MB: {encoding} tokenizer"
            await bench_storage(services, db_path, report, note, creating - reopening)
        finally:
            await close_core(core)


if __name__ == "__main__":
    asyncio.run(run(print))
