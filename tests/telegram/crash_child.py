"""A bot process for the crash test: the adapter with the stub core, until killed.

Usage: python -m tests.telegram.crash_child <fake root url> <db path> <hold: 0|1>
With hold=1 the first command never finishes, so later ones from the same user stay stored.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from adapters.telegram.adapter import TelegramAdapter
from tests.telegram.stub_inbound import StubInbound
from tests.telegram.support import TOKEN, plain_engine


async def main(url: str, db: str, hold: bool) -> None:
    engine = await plain_engine(Path(db))
    inbound = StubInbound(hold=asyncio.Event() if hold else None)
    adapter = TelegramAdapter(inbound, engine, TOKEN, url, poll_timeout=1.0)
    await adapter.start()
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3] == "1"))
