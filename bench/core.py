"""Core figures (printed, never asserted): Midjourney tracking at scale, then /ask and storage.

Run: .venv/bin/python bench/core.py
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import core_ask, core_imagine


async def main() -> None:
    await core_imagine.run(print)
    await core_ask.run(print)


if __name__ == "__main__":
    asyncio.run(main())
