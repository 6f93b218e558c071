"""Core figures (printed, never asserted): Midjourney tracking at scale, then /ask and storage.

Run: .venv/bin/python bench/core.py [--database-url URL]

--database-url picks the store of the /ask part (e.g. postgresql+asyncpg://postgres@127.0.0.1/test,
where it works in a scratch database of its own); the Midjourney part measures SQLite files.

Each part runs in a process of its own, so the memory figures of the /ask part are not those of
a process that has just tracked hundreds of Midjourney jobs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description="core figures")
    parser.add_argument("--database-url", help="the /ask part's database (default: SQLite)")
    url = parser.parse_args().database_url
    ask = ["core_ask.py"] + (["--database-url", url] if url else [])
    for part in (["core_imagine.py"], ask):
        status = subprocess.call([sys.executable, str(HERE / part[0]), *part[1:]], cwd=HERE.parent)
        if status:
            return status
    return 0


if __name__ == "__main__":
    sys.exit(main())
