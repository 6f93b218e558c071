"""Core figures (printed, never asserted): Midjourney tracking at scale, then /ask and storage.

Run: .venv/bin/python bench/core.py

Each part runs in a process of its own, so the memory figures of the /ask part are not those of
a process that has just tracked hundreds of Midjourney jobs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    for part in ("core_imagine.py", "core_ask.py"):
        status = subprocess.call([sys.executable, str(HERE / part)], cwd=HERE.parent)
        if status:
            return status
    return 0


if __name__ == "__main__":
    sys.exit(main())
